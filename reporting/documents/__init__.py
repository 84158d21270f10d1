"""Documents (issue 4 item 5): the feedback letter and the special report as ``.docx``, the
special report as PDF, the results and the rectification list as ``.xlsx``.

Every builder takes plain data (a draft from :func:`domain.report.feedback_draft`, a report
from :func:`domain.report.special_report`, a results document, rectification rows) and
returns the file's bytes. Nothing is computed here beyond layout: the numbers arrive as
decimal strings and are written as they are (in ``.xlsx`` as numbers, from ``Decimal``).

Chinese text: in ``.docx`` every style and every run names its East Asian font (``w:eastAsia``)
as well as its Latin one, so WPS and Word both show 宋体 / 黑体 rather than a fallback; the
PDF uses the built-in CID font ``STSong-Light`` (no font file needed).

One module per format: ``docx``, ``pdf``, ``xlsx``; ``layout`` is what they share.
"""

from reporting.documents.docx import feedback_docx, report_docx
from reporting.documents.layout import CHINA, DOCX_MIME, PDF_MIME, XLSX_MIME
from reporting.documents.pdf import report_pdf
from reporting.documents.xlsx import hr_xlsx, rectification_xlsx, results_xlsx
from reporting.documents.cells import neutralise, neutralise_row

__all__ = ["CHINA", "DOCX_MIME", "PDF_MIME", "XLSX_MIME", "feedback_docx", "hr_xlsx", "rectification_xlsx", "report_docx", "report_pdf", "results_xlsx"]
