"""Court-ready reports of a case's exhibits: the data (``data``), the PDF (``render``), the PII scan
(``pii``)."""
