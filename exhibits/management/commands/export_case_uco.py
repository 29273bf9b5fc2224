"""manage.py export_case_uco NUMBER --out FILE [--exhibits E-001,…] [--recipient TEXT] --actor U [--json]"""

from exhibits.interchange import CASE_UCO_FORMAT, case_uco_export
from exhibits.management.commands._interchange import InterchangeCommand


class Command(InterchangeCommand):
    """Write the case's (or the named exhibits') items and their custody as CASE/UCO JSON-LD (files with
    hashes, custody events as investigative actions with performers, times and ledger leaf hashes). Each
    item gets an 'exported' custody event. Lead or investigator only. Exit 1 with a message if refused."""

    export_name = CASE_UCO_FORMAT
    service = staticmethod(case_uco_export)
