"""Court-ready reports of a case's exhibits: the data (``data``), the PDF (``render``), the PII scan
(``pii``), PDF/A-3 finalisation (``pdfa``), PAdES signing (``signing``), storage and downloads (``services``).
"""
