"""A 2-D picture of a layer's token vectors: their projection on the first two principal components (PCA)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bertdesk.core.errors import BertdeskError


@dataclass(frozen=True)
class Projection2D:
    """Each row's (x, y) on the first two principal components, and the share of the variance each explains."""

    points: np.ndarray  # (n, 2)
    explained: tuple[float, float]

    def to_dict(self, labels: list[str]) -> dict:
        """JSON-ready: one {label, x, y} per row and the explained variance shares."""
        return {
            "explained": [round(v, 6) for v in self.explained],
            "points": [{"label": label, "x": round(float(x), 6), "y": round(float(y), 6)}
                       for label, (x, y) in zip(labels, self.points, strict=True)],
        }


def pca_2d(vectors: np.ndarray) -> Projection2D:
    """Centre the rows of `vectors` and project them on their two leading principal directions (by SVD).

    Each direction's sign is fixed so that its largest |component| is positive: the same input always gives the
    same picture. With fewer than two directions of variance the missing coordinates are 0.
    """
    vectors = np.asarray(vectors, np.float64)
    if vectors.ndim != 2 or len(vectors) < 2:
        raise BertdeskError("a projection needs at least two vectors")
    centred = vectors - vectors.mean(axis=0)
    _, singular, directions = np.linalg.svd(centred, full_matrices=False)
    count = min(2, len(singular))
    directions = directions[:count]
    signs = np.sign(directions[np.arange(count), np.abs(directions).argmax(axis=1)])
    directions = directions * np.where(signs == 0, 1, signs)[:, None]
    points = np.zeros((len(vectors), 2))
    points[:, :count] = centred @ directions.T
    variance = singular**2
    total = float(variance.sum())
    shares = [float(variance[i] / total) if total > 0 and i < count else 0.0 for i in range(2)]
    return Projection2D(points, (shares[0], shares[1]))
