"""The public API of bertdesk.core.bundles: what the front ends import from it."""

from .bundle import (
    Bundle as Bundle,
    BundleInfo as BundleInfo,
    describe_bundle as describe_bundle,
    inspect_bundle as inspect_bundle,
    list_bundles as list_bundles,
    open_model as open_model,
    precision_variant as precision_variant,
    resolve_bundle as resolve_bundle,
)
from .config import TASK_CLASSIFICATION as TASK_CLASSIFICATION, TASK_ENCODER as TASK_ENCODER, TASK_QA as TASK_QA
from .names import BUNDLE_METADATA as BUNDLE_METADATA, PRECISIONS as PRECISIONS
