"""What the Library tab says: captions, banners and the "How does this work?" explanation."""

from __future__ import annotations

LIBRARY_CAPTION = (
    "Your documents, read from your disk and kept in one database file in your data folder. Removing a document "
    "only removes it from the library: the file itself is never touched."
)
EMPTY_LIBRARY = (
    "The library is empty. Add PDF, Word (.docx), HTML, Markdown or text files — or a whole folder — with the "
    "buttons above, or drop them here."
)
QA_BANNER = (
    "<b>Span QA</b> with {reader}: the best passages are found first, then the reader points at the words that "
    "answer the question."
)
RETRIEVAL_BANNER = (
    "<b>Passage retrieval, not span QA:</b> the best passages, each with its sentence closest to the question "
    "highlighted. For answers pointed at the words, install a question-answering model (<i>Models → Manage "
    "models…</i>) and choose it as the Reader."
)
NO_ANSWERS = "No passage matches the question. Try other words, or add the documents that hold the answer."
ASK_FIRST = "Type a question about your documents and press Enter."
NO_DOCUMENTS_TO_ASK = "Add documents to the library first: there is nothing to search yet."
SCANNED_HINT = (
    "Pages without a text layer (a scanned image of a page) have no words to index: run OCR on the file (e.g. "
    "ocrmypdf) and add it again."
)
MAKE_UP_HINT = "Select an answer to see how its score was made (BM25 rank, vector rank, fusion, reader)."
NOT_A_PDF = "Only PDF pages are shown as pages; the text on the left is this document's {kind} text."
REMOVE_CONFIRM = (
    "Remove {what} from the library?\n\nIts passages leave the library and are no longer searched. The file on "
    "your disk is not touched."
)

EXPLANATION = (
    "<p><b>Passages.</b> Each document is cut into passages of a few sentences (about 700 characters) that "
    "overlap their neighbours by a sentence, so that a fact at a boundary is whole in one of them. Each passage "
    "remembers its page and its exact place in the page's text: that is how an answer opens at the right page "
    "with the right words highlighted.</p>"
    "<p><b>Two searches, because each misses what the other finds.</b> <i>BM25</i> is keyword search: it scores "
    "the passages that contain the question's words, rarer words counting more — exact names, numbers and codes "
    "are found reliably. <i>Dense vectors</i>: the embedding model turns the question and every passage into a "
    "vector of numbers whose closeness means closeness of meaning, so a passage that says “automobile” is found "
    "for “car”.</p>"
    "<p><b>Reciprocal rank fusion.</b> The two rankings are merged by rank, not by score (their scores are on "
    "different scales): each passage gets 1/(60 + rank) from each list, and the sums are sorted. A passage near "
    "the top of both lists wins; one found by a single search still counts. An exact phrase of the question "
    "found word for word adds a small boost.</p>"
    "<p><b>The reader.</b> With a question-answering model (extractive span QA), the best passages are read "
    "with the question and the model points at the start and end of the answer: the answer is the document's own "
    "words. Without one, you get <i>passage retrieval</i>: the best passages, with the sentence closest to the "
    "question highlighted — useful, but the passage is not checked to actually answer.</p>"
    "<p><b>“Scanned page, no text”.</b> Some PDF pages are pictures of paper with no text layer. There is "
    "nothing to index on them; they are listed by number so you know which pages cannot be searched. OCR them "
    "first (e.g. <code>ocrmypdf in.pdf out.pdf</code>) and add the result.</p>"
    "<p><b>Watched folders</b> are kept in sync while the app runs, and checked again at start-up: new and "
    "changed files are indexed, deleted ones leave the library. An import interrupted by quitting continues at "
    "the next start; at most the file in progress is read again.</p>"
)
