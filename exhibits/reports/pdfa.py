"""PDF/A-3b finalisation of a rendered report: XMP identification, sRGB output intent, the manifest attached.

``pdfa_finalize`` takes the plain PDF that ``report_render`` wrote (fonts embedded, no encryption) and adds
what ISO 19005-3 level B asks of the document as a whole: an XMP metadata stream that identifies the file
as PDF/A-3 conformance B and agrees with the document information dictionary, an sRGB output intent (the
profile comes from LittleCMS through Pillow, so no profile file ships with Haetae), the document language,
a trailer /ID, and the machine-readable manifest (JSON: items, hashes, custody events, proofs) embedded as
``manifest.json``, an *associated file* of the document (/AF on the catalog, /AFRelationship /Data), which
is what PDF/A-3 adds over PDF/A-2. The result is then signed (``exhibits.reports.signing``); signing is an
incremental update, so everything written here is covered by the signature.

What this module cannot establish on its own is the conformance of the page content the renderer drew
(every font embedded, no device-dependent colour without the intent): that is the renderer's side of the
bargain; ``pdfa_finalize`` refuses input it can see is not fit (encrypted, or fonts not embedded).
"""

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pikepdf
from pikepdf import Array, Dictionary, Name, Pdf, String
from PIL import ImageCms

from haetae.errors import RejectedInput

MANIFEST_NAME = "manifest.json"
MANIFEST_MIME = "application/json"
CREATOR_TOOL = "Haetae"
OUTPUT_CONDITION = "sRGB IEC61966-2.1"
# Device classes ISO 19005-2/3 (6.2.3) accepts for an output intent's profile; its major version must be <= 4.
_OUTPUT_INTENT_CLASSES = {b"mntr", b"prtr", b"scnr", b"spac"}


def srgb_profile() -> bytes:
    """The sRGB ICC profile that LittleCMS builds (through Pillow), checked fit for a PDF/A output intent."""
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    if len(profile) < 128 or profile[8] > 4 or profile[12:16] not in _OUTPUT_INTENT_CLASSES:
        raise RuntimeError(
            "the sRGB profile from Pillow/LittleCMS is not usable as a PDF/A output intent (ICC version "
            f"{profile[8] if len(profile) > 8 else '?'}, class {profile[12:16]!r}): check the Pillow build"
        )
    return profile


def pdf_date(moment: datetime) -> str:
    """A PDF date string (ISO 32000-1 7.9.4) in UTC, with the offset written out in full."""
    return moment.astimezone(UTC).strftime("D:%Y%m%d%H%M%S+00'00'")


def xmp_date(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


_Instruction = pikepdf.ContentStreamInstruction | pikepdf.ContentStreamInlineImage


def _is_embedded(font: pikepdf.Object) -> bool:
    if font.get("/Subtype") == Name.Type3:
        return True  # glyphs are content streams: nothing to embed
    descriptors = [font.get("/FontDescriptor")]
    if font.get("/Subtype") == Name.Type0:
        descriptors = [d.get("/FontDescriptor") for d in font.get("/DescendantFonts", [])]
    return all(
        d is not None and any(key in d for key in ("/FontFile", "/FontFile2", "/FontFile3"))
        for d in descriptors
    )


_SHOW_TEXT = frozenset({"Tj", "TJ", "'", '"'})


def _fonts_showing_text(instructions: list[_Instruction]) -> set[str]:
    """Resource names of the fonts current when text is shown (the font is graphics state: it survives ET
    and is saved and restored by q/Q)."""
    used: set[str] = set()
    current: str | None = None
    saved: list[str | None] = []
    for instruction in instructions:
        operator = str(instruction.operator)
        if operator == "Tf" and instruction.operands:
            current = str(instruction.operands[0])
        elif operator == "q":
            saved.append(current)
        elif operator == "Q" and saved:
            current = saved.pop()
        elif operator in _SHOW_TEXT and current is not None:
            used.add(current)
    return used


def _strip_unused_unembedded_fonts(pdf: Pdf) -> None:
    """Drop the selection and the resource of unembedded fonts that never show a glyph on the page.

    reportlab opens every page with ``BT /F1 12 Tf 14.4 TL ET`` (Helvetica, never embedded) whatever fonts
    the page then uses; a validator would count that font although it draws nothing. Removing a ``Tf`` that
    no text-showing operator follows (before the next ``Tf``) changes nothing on the page. A font that does
    show text is left alone and refused by ``_unembedded_fonts``.
    """
    # Pages may share one font dictionary: a font leaves it only if it is idle on every page sharing it.
    idle_by_dict: dict[tuple[int, int], set[str]] = {}
    pages = []
    for page in pdf.pages:
        resources = page.obj.get("/Resources")
        if resources is None or "/Font" not in resources:
            continue
        fonts = resources.Font
        holder = fonts if fonts.is_indirect else resources if resources.is_indirect else page.obj
        key = holder.objgen
        unembedded = {name for name, font in fonts.items() if not _is_embedded(font)}
        instructions = list(pikepdf.parse_content_stream(page))
        idle = unembedded - _fonts_showing_text(instructions)
        idle_by_dict[key] = idle_by_dict.get(key, idle) & idle
        pages.append((page, fonts, key, instructions))
    for page, fonts, key, instructions in pages:
        idle = idle_by_dict[key]
        if not idle:
            continue
        kept = [
            i
            for i in instructions
            if not (str(i.operator) == "Tf" and i.operands and str(i.operands[0]) in idle)
        ]
        if len(kept) != len(instructions):
            page.obj.Contents = pdf.make_stream(pikepdf.unparse_content_stream(kept))
        for name in idle & set(fonts.keys()):
            del fonts[name]


def _unembedded_fonts(pdf: Pdf) -> list[str]:
    """Base names of fonts that pages list without a font program (PDF/A forbids those)."""
    missing: set[str] = set()
    for page in pdf.pages:
        resources = page.obj.get("/Resources")
        fonts = resources.get("/Font") if resources is not None else None
        for font in fonts.values() if fonts is not None else ():
            if not _is_embedded(font):
                missing.add(str(font.get("/BaseFont", "?")))
    return sorted(missing)


def pdfa_finalize(*, pdf_in: Path, pdf_out: Path, manifest: bytes, title: str, language: str) -> None:
    """Write ``pdf_in`` as PDF/A-3b to ``pdf_out``, ``manifest`` (JSON bytes) attached as manifest.json."""
    title = (title or "").strip()
    if not title:
        raise RejectedInput("a PDF/A report needs a title (dc:title): give the report's title")
    language = (language or "").strip()
    if not language:
        raise RejectedInput("a PDF/A report needs its language (e.g. 'ko' or 'en')")
    now = datetime.now(UTC).replace(microsecond=0)
    try:
        pdf = Pdf.open(pdf_in)
    except pikepdf.PasswordError:
        raise RejectedInput(
            f"{pdf_in.name} is encrypted; PDF/A forbids encryption: render it without"
        ) from None
    except pikepdf.PdfError as exc:
        raise RejectedInput(f"{pdf_in.name} is not a readable PDF ({exc}): render the report again") from None
    with pdf:
        if pdf.is_encrypted:
            raise RejectedInput(f"{pdf_in.name} is encrypted; PDF/A forbids encryption: render it without")
        _strip_unused_unembedded_fonts(pdf)
        missing = _unembedded_fonts(pdf)
        if missing:
            raise RejectedInput(
                f"the rendered report uses fonts without embedding them ({', '.join(missing)}); PDF/A needs "
                "every font embedded: render with a TrueType font (HAETAE_REPORT_FONT_DIR)"
            )
        created = now
        # The information dictionary keeps only what XMP mirrors exactly; the signer appends its Producer
        # (and pyHanko writes the same value into XMP), so a Producer left here would disagree with it.
        pdf.trailer.Info = pdf.make_indirect(
            Dictionary(
                Title=String(title),
                Creator=String(CREATOR_TOOL),
                CreationDate=String(pdf_date(created)),
                ModDate=String(pdf_date(now)),
            )
        )
        if "/Metadata" in pdf.Root:
            del pdf.Root.Metadata  # the renderer's own XMP (if any) is replaced whole, not merged
        with pdf.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False) as meta:
            meta["dc:title"] = title
            meta["dc:language"] = {language}
            meta["dc:format"] = "application/pdf"
            meta["xmp:CreatorTool"] = CREATOR_TOOL
            meta["xmp:CreateDate"] = xmp_date(created)
            meta["xmp:ModifyDate"] = xmp_date(now)
            meta["xmp:MetadataDate"] = xmp_date(now)
            meta["pdf:Producer"] = CREATOR_TOOL
            meta["pdfaid:part"] = "3"
            meta["pdfaid:conformance"] = "B"
        pdf.Root.Lang = String(language)
        profile = pdf.make_stream(srgb_profile())
        profile.N = 3
        pdf.Root.OutputIntents = Array(
            [
                pdf.make_indirect(
                    Dictionary(
                        Type=Name.OutputIntent,
                        S=Name.GTS_PDFA1,
                        OutputConditionIdentifier=String(OUTPUT_CONDITION),
                        RegistryName=String("http://www.color.org"),
                        Info=String("sRGB IEC61966-2.1 (LittleCMS)"),
                        DestOutputProfile=profile,
                    )
                )
            ]
        )
        _attach_manifest(pdf, manifest, when=now)
        # qpdf writes a trailer /ID (PDF/A requires one); deterministic: derived from the content. PDF/A-3
        # is based on PDF 1.7 (associated files, ICC v4 output intents).
        pdf.save(pdf_out, deterministic_id=True, fix_metadata_version=False, min_version="1.7")


def _attach_manifest(pdf: Pdf, manifest: bytes, *, when: datetime) -> None:
    """Embed the manifest as the document's associated file manifest.json (replacing an earlier one)."""
    spec = pikepdf.AttachedFileSpec(
        pdf,
        manifest,
        description="Machine-readable manifest of this report: exhibits, items, hashes, custody events, "
        "inclusion and consistency proofs, checkpoints (JSON)",
        filename=MANIFEST_NAME,
        mime_type=MANIFEST_MIME,
        creation_date=pdf_date(when),
        mod_date=pdf_date(when),
        relationship=Name.Data,
    )
    pdf.attachments[MANIFEST_NAME] = spec
    filespec = pdf.attachments[MANIFEST_NAME].obj
    stream = filespec.EF.F
    stream.Params.CheckSum = String(hashlib.md5(manifest, usedforsecurity=False).digest())
    associated = [
        entry
        for entry in pdf.Root.get("/AF", Array())
        if entry.get("/F") != MANIFEST_NAME and entry.get("/UF") != MANIFEST_NAME
    ]
    associated.append(filespec)
    pdf.Root.AF = Array(associated)


def manifest_extract(pdf_path: Path) -> bytes:
    """The bytes of the embedded manifest.json of a finalised report (what a verifier reads)."""
    with Pdf.open(pdf_path) as pdf:
        if MANIFEST_NAME not in pdf.attachments:
            raise RejectedInput(f"{pdf_path.name} has no embedded {MANIFEST_NAME}")
        return bytes(pdf.attachments[MANIFEST_NAME].get_file().read_bytes())
