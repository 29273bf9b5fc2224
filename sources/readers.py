"""The source readers ingest calls (``settings.HAETAE_SOURCE_KINDS``): each recognises its layout and
records what it parses from the files the run stored, reading them back from the vault."""

import os
import stat
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from evidence.hooks import SourceContext, SourceFile, SourceProgress, SourceSummary
from evidence.models import Blob
from evidence.vault import open_object
from parties.choices import ChannelPlatform
from sources.choices import SourceKind, SourceNoteKind
from sources.kakaotalk import kakaotalk_looks_like, kakaotalk_messages
from sources.parsed import ByteStream, ParsedChat, ParsedDeviceFile, ParsedMessage, ParsedNote, zone
from sources.services import MessageRecorder
from sources.telegram import EXPORT_NAME, telegram_messages
from sources.telegram_html import page_number, telegram_html_messages
from sources.ufdr import REPORT_NAME, ufdr_records

DEFAULT_TIME_ZONE = "Asia/Seoul"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")


def _regular(path: bytes) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def _is_dir(path: bytes) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def _zip_names(path: bytes) -> list[str]:
    """The member names of a ZIP at ``path`` (its central directory only), or [] if it is not one."""
    if not _regular(path):
        return []
    try:
        with open(path, "rb") as handle:
            if handle.read(4) not in _ZIP_MAGICS:
                return []
            handle.seek(0)
            with zipfile.ZipFile(handle) as archive:
                return archive.namelist()[:100_000]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        return []


def _stored(files: Sequence[SourceFile]) -> list[tuple[str, SourceFile]]:
    """(its place inside the upload or archive, the file) for every file a run stored with content: a
    member's path inside its archive, else the file's name."""
    return [
        (f.path.rsplit("!/", 1)[-1] if "!/" in f.path else f.path.rsplit("/", 1)[-1], f)
        for f in files
        if f.sha256 is not None and f.status != "rejected"
    ]


def _time_zone(context: SourceContext) -> str:
    name = context.options.get("time_zone") or DEFAULT_TIME_ZONE
    zone(name)  # refuse an unknown zone before anything is recorded
    return name


class _Counted:
    """A stored file's reader that tells the command's progress bar how many bytes the parser has read."""

    def __init__(self, stream: ByteStream, progress: SourceProgress) -> None:
        self.stream = stream
        self.progress = progress

    def read(self, size: int = -1, /) -> bytes:
        data = self.stream.read(size)
        self.progress.parsed(len(data))
        return data


def _parse_begin(context: SourceContext, files: Sequence[SourceFile]) -> None:
    """Tell the progress bar how many stored bytes are about to be parsed."""
    sizes = dict(
        Blob.objects.filter(sha256__in={f.sha256 for f in files if f.sha256}).values_list("sha256", "size")
    )
    context.progress.parsing(sum(sizes.get(f.sha256 or "", 0) for f in files))


@contextmanager
def _parsed(context: SourceContext, sha256: str) -> Iterator[ByteStream]:
    """A stored file opened for its parser, its reading counted on the progress bar."""
    with open_object(sha256) as reader:
        yield _Counted(reader, context.progress)


HTML_FIRST_PAGE = "messages.html"
HTML_ACCOUNT_INDEX = "export_results.html"  # "Export Telegram data" in HTML: chats/chat_NNN/messages.html
TELEGRAM_ROOT_NAMES = frozenset({EXPORT_NAME, HTML_FIRST_PAGE, HTML_ACCOUNT_INDEX})


class TelegramReader:
    """Telegram Desktop's export: a folder or ZIP with ``result.json`` (or, without one, ``messages.html``,
    or a full-account HTML export's ``export_results.html``) at its root (or in one folder of the ZIP)."""

    label = "Telegram Desktop export (result.json, or messages.html without it)"

    def recognises(self, path: bytes) -> bool:
        if _is_dir(path):
            return any(_regular(os.path.join(path, name.encode())) for name in TELEGRAM_ROOT_NAMES)  # noqa: PTH118
        if os.path.basename(path) == EXPORT_NAME.encode():  # noqa: PTH119
            return _regular(path)
        return any(
            name.split("/")[-1] in TELEGRAM_ROOT_NAMES and name.count("/") <= 1 for name in _zip_names(path)
        )

    def recognises_stored(self, files: Sequence[SourceFile]) -> bool:
        return any(
            place.rsplit("/", 1)[-1] in TELEGRAM_ROOT_NAMES and place.count("/") <= 1
            for place, _ in _stored(files)
        )

    def record(self, context: SourceContext) -> SourceSummary:
        time_zone = _time_zone(context)
        recorder = MessageRecorder(
            context, kind=SourceKind.TELEGRAM, platform=ChannelPlatform.TELEGRAM, time_zone=time_zone
        )
        exports = _named(context.files, EXPORT_NAME)
        json_folders = {e.path.rsplit("/", 1)[0] for e in exports}
        pages = _html_pages(context.files, skip=json_folders)
        if not exports and not pages:
            recorder.note(
                SourceNoteKind.MALFORMED,
                "; ".join(context.roots),
                f"neither {EXPORT_NAME} nor {HTML_FIRST_PAGE} was stored: nothing was parsed",
            )
        _parse_begin(context, [*exports, *(page for folder in pages.values() for page in folder)])
        for export in exports:
            assert export.sha256 is not None
            with _parsed(context, export.sha256) as reader:
                recorder.take_all(telegram_messages(reader, time_zone=time_zone), export=export)
        for folder_pages in pages.values():
            _record_html(recorder, folder_pages, time_zone)
        html = [page.item_id for folder_pages in pages.values() for page in folder_pages]
        return recorder.finish(
            {"exports": [e.item_id for e in exports], **({"html_pages": html} if html else {})}
        )


class KakaoTalkReader:
    """KakaoTalk's text export (PC "Talk_….txt", or the mobile app's text), a file or a folder of them."""

    label = "KakaoTalk text export"

    def recognises(self, path: bytes) -> bool:
        if _is_dir(path):
            return False
        if not _regular(path) or not path.lower().endswith(b".txt"):
            return False
        try:
            with open(path, "rb") as handle:
                return kakaotalk_looks_like(handle.read(8192))
        except OSError:
            return False

    def recognises_stored(self, files: Sequence[SourceFile]) -> bool:
        stored = _stored(files)
        if not stored or not all(place.lower().endswith(".txt") for place, _ in stored):
            return False
        sha256 = stored[0][1].sha256
        assert sha256 is not None
        with open_object(sha256) as reader:
            return kakaotalk_looks_like(reader.read(8192))

    def record(self, context: SourceContext) -> SourceSummary:
        time_zone = _time_zone(context)
        recorder = MessageRecorder(
            context, kind=SourceKind.KAKAOTALK, platform=ChannelPlatform.KAKAOTALK, time_zone=time_zone
        )
        exports = [
            f
            for f in context.files
            if f.sha256 is not None and f.status != "rejected" and f.path.lower().endswith(".txt")
        ]
        parsed: list[SourceFile] = []
        for export in exports:
            assert export.sha256 is not None
            with open_object(export.sha256) as reader:
                if kakaotalk_looks_like(reader.read(8192)):
                    parsed.append(export)
                # else another text file of the folder: kept as a plain file, nothing to parse
        _parse_begin(context, parsed)
        for export in parsed:
            assert export.sha256 is not None
            with _parsed(context, export.sha256) as reader:
                recorder.take_all(
                    kakaotalk_messages(reader, time_zone=time_zone, name=export.path.rsplit("/", 1)[-1]),
                    export=export,
                )
        return recorder.finish({"exports": [e.item_id for e in exports]})


def _html_pages(files: Sequence[SourceFile], *, skip: set[str]) -> dict[str, list[SourceFile]]:
    """The HTML export's pages by folder (where ``messages.html`` was stored and no ``result.json``), each
    folder's pages in the exporter's order (messages.html, messages2.html …)."""
    found: dict[str, list[tuple[int, SourceFile]]] = {}
    for f in files:
        if f.sha256 is None or f.status == "rejected":
            continue
        folder, _, name = f.path.rpartition("/")
        number = page_number(name)
        if number is not None and folder not in skip:
            found.setdefault(folder, []).append((number, f))
    return {
        folder: [f for _, f in sorted(numbered, key=lambda pair: pair[0])]
        for folder, numbered in found.items()
        if any(number == 1 for number, _ in numbered)
    }


def _record_html(recorder: MessageRecorder, pages: list[SourceFile], time_zone: str) -> None:
    """Every page of one HTML export, as one chat: order and the joined sender carry across pages."""
    chat: ParsedChat | None = None
    position, sender = 0, ""
    for page in pages:
        assert page.sha256 is not None

        def follow(
            stream: ByteStream, page: SourceFile = page
        ) -> Iterator[ParsedChat | ParsedMessage | ParsedNote]:
            nonlocal chat, position, sender
            name = page.path.rsplit("/", 1)[-1]
            for record in telegram_html_messages(
                stream,
                time_zone=time_zone,
                chat=chat,
                first_position=position,
                page=name,
                carried_sender=sender,
            ):
                if isinstance(record, ParsedChat):
                    chat = record
                elif isinstance(record, ParsedMessage):
                    position = record.position
                    if record.kind == "message" and record.sender_name:
                        sender = record.sender_name
                yield record

        with _parsed(recorder.context, page.sha256) as reader:
            recorder.take_all(follow(reader), export=page)


def _named(files: Sequence[SourceFile], name: str) -> list[SourceFile]:
    return [
        f
        for f in files
        if f.sha256 is not None and f.status != "rejected" and f.path.rsplit("/", 1)[-1] == name
    ]


class UfdrReader:
    """Cellebrite UFDR: a ZIP (or its unpacked folder) with ``report.xml`` at its root."""

    label = "Cellebrite UFDR (report.xml)"

    def recognises(self, path: bytes) -> bool:
        if _is_dir(path):
            return _regular(os.path.join(path, REPORT_NAME.encode()))  # noqa: PTH118
        return any(name.lower() == REPORT_NAME for name in _zip_names(path))

    def recognises_stored(self, files: Sequence[SourceFile]) -> bool:
        return any(place.lower() == REPORT_NAME for place, _ in _stored(files))

    def record(self, context: SourceContext) -> SourceSummary:
        time_zone = _time_zone(context)
        recorder = MessageRecorder(
            context, kind=SourceKind.UFDR, platform=ChannelPlatform.OTHER, time_zone=time_zone
        )
        reports = [f for f in context.files if f.path.rsplit("/", 1)[-1].lower() == REPORT_NAME and f.sha256]
        if not reports:
            recorder.note(
                SourceNoteKind.MALFORMED,
                "; ".join(context.roots),
                f"no {REPORT_NAME} was stored: nothing was parsed",
            )
        _parse_begin(context, reports)
        for report in reports:
            assert report.sha256 is not None
            with _parsed(context, report.sha256) as reader:
                recorder.take_all(ufdr_records(reader, time_zone=time_zone), export=report)
        return recorder.finish({"reports": [r.item_id for r in reports]})


class ExtractionReader:
    """Any other extraction (Magnet, GrayKey, ALEAPP output …) as a folder tree or ZIP: files are stored as
    they are, each with its path on the device (its path under the folder given); nothing is parsed."""

    label = "extraction folder (device paths kept)"

    def recognises(self, path: bytes) -> bool:
        return False  # a plain folder: only an operator can say it is an extraction (--as extraction)

    def recognises_stored(self, files: Sequence[SourceFile]) -> bool:
        return False

    def record(self, context: SourceContext) -> SourceSummary:
        recorder = MessageRecorder(
            context, kind=SourceKind.EXTRACTION, platform=ChannelPlatform.OTHER, time_zone=_time_zone(context)
        )
        for root in context.roots:
            prefixes = (f"{root}/", f"{root}!/")
            found = [
                ParsedDeviceFile(device_path="/" + f.path[len(prefix) :], local_path=f.path[len(prefix) :])
                for f in context.files
                if f.sha256 is not None
                for prefix in prefixes
                if f.path.startswith(prefix)
            ]
            folder = root if _is_dir(os.fsencode(root)) else f"{root}!"
            recorder.take_all(found, export=None, folder=folder)
        return recorder.finish()


telegram = TelegramReader()
kakaotalk = KakaoTalkReader()
ufdr = UfdrReader()
extraction = ExtractionReader()
