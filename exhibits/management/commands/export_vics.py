"""manage.py export_vics NUMBER --out FILE [--exhibits E-001,…] [--recipient TEXT] --actor U [--json]"""

from exhibits.interchange import VICS_FORMAT, vics_export
from exhibits.management.commands._interchange import InterchangeCommand


class Command(InterchangeCommand):
    """Write the case's (or the named exhibits') items as VICS-style JSON: one Media per distinct content
    (MD5, SHA-1, size, category of docs/interchange.md) with its MediaFiles (paths, file times). Each item
    gets an 'exported' custody event. Lead or investigator only. Exit 1 with a message if refused."""

    export_name = VICS_FORMAT
    service = staticmethod(vics_export)
