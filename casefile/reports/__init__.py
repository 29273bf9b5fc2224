"""Exhibit reports: data, rendering, PDF/A-3 finalisation, PAdES signing, storage and downloads."""
