"""Generated text media for OCR and search: chat-like screenshots rendered in NanumGothic, documents."""

import io
import zipfile

from PIL import Image, ImageDraw, ImageFont

NANUM = "/usr/share/fonts/truetype/nanum/NanumGothic.ttf"


def screenshot(lines: list[str], *, size: int = 28, width: int = 900, fmt: str = "PNG") -> bytes:
    """A plain screenshot-like image: dark text on white, one line per entry, in NanumGothic."""
    font = ImageFont.truetype(NANUM, size)
    image = Image.new("RGB", (width, 2 * size * len(lines) + 2 * size), "white")
    draw = ImageDraw.Draw(image)
    for index, line in enumerate(lines):
        draw.text((size, size + 2 * size * index), line, font=font, fill=(25, 25, 25))
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


def docx_bytes(paragraphs: list[str], *, creator: str = "", title: str = "") -> bytes:
    """A minimal DOCX (the parts Word needs to open it) with the paragraphs and core properties."""
    body = "".join(f'<w:p><w:r><w:t xml:space="preserve">{text}</w:t></w:r></w:p>' for text in paragraphs)
    document = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        f"<w:body>{body}</w:body></w:document>"
    )
    core = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        "<cp:coreProperties "
        'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/">'
        f"<dc:creator>{creator}</dc:creator><dc:title>{title}</dc:title></cp:coreProperties>"
    )
    types = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/word/document.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
        "</Types>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", types)
        archive.writestr("word/document.xml", document)
        archive.writestr("docProps/core.xml", core)
    return out.getvalue()
