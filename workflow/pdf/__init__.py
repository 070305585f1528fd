"""PDF rendering of the official forms (様式２, 様式６, 次第, public-comment results).

``workflow.pdf.documents`` is the public face: ``minutes_pdf(meeting)``, ``agenda_pdf(meeting)``,
``request_form_pdf(item)``, ``comment_results_pdf(public_comment)``, each returning a
``PdfDocument`` (bytes, ETag, download name). WeasyPrint is imported only when something is
rendered, so the web app and the CLI start without it.
"""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the PDF commands (flask doctor)."""
    from workflow.pdf.doctor import doctor_command

    app.cli.add_command(doctor_command)
