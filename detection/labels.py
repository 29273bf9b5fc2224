"""Words a person reads for the codes detectors store (finding labels and categories), and which findings
are signals worth showing in lists.

Detectors write stable codes (``c2pa_none``, ``FEMALE_BREAST_EXPOSED``) that the API and the manifests keep;
the portal and the reports show these words instead, in the reader's language (the portal keeps the code in
a ``title`` for whoever searches the API for it).
"""

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

# What an investigator scans a list for: an exposure, a face, an AI-provenance hit, a deepfake classifier's
# score, a suspicious file. The rest are records (hashes, maps, metadata) or absences ("not probative").
SIGNAL_CATEGORIES = frozenset({"exposed", "face", "ai_provenance", "suspicious_content", "model_pack"})
# Checked and nothing there: said once on the item page, never shown as a finding in lists.
ABSENCE_CATEGORY = "not_probative"

FINDING_CATEGORIES: dict[str, Promise] = {
    "exposed": _("exposed body"),
    "covered": _("covered body"),
    "face": _("face"),
    "ai_provenance": _("AI provenance"),
    "suspicious_content": _("suspicious content"),
    "model_pack": _("deepfake classifier"),
    "not_probative": _("not probative"),
    "forensic_indicator": _("forensic indicator"),
    "perceptual_hash": _("perceptual hash"),
    "file_hash": _("file hash"),
    "metadata": _("metadata"),
    "extracted_text": _("text found in the file"),
}

FINDING_LABELS: dict[str, Promise] = {
    # NudeNet's classes
    "FACE_FEMALE": _("female face"),
    "FACE_MALE": _("male face"),
    "FEMALE_BREAST_EXPOSED": _("female breast, exposed"),
    "FEMALE_BREAST_COVERED": _("female breast, covered"),
    "FEMALE_GENITALIA_EXPOSED": _("female genitalia, exposed"),
    "FEMALE_GENITALIA_COVERED": _("female genitalia, covered"),
    "MALE_BREAST_EXPOSED": _("male breast, exposed"),
    "MALE_GENITALIA_EXPOSED": _("male genitalia, exposed"),
    "BUTTOCKS_EXPOSED": _("buttocks, exposed"),
    "BUTTOCKS_COVERED": _("buttocks, covered"),
    "ANUS_EXPOSED": _("anus, exposed"),
    "ANUS_COVERED": _("anus, covered"),
    "BELLY_EXPOSED": _("belly, exposed"),
    "BELLY_COVERED": _("belly, covered"),
    "ARMPITS_EXPOSED": _("armpits, exposed"),
    "ARMPITS_COVERED": _("armpits, covered"),
    "FEET_EXPOSED": _("feet, exposed"),
    "FEET_COVERED": _("feet, covered"),
    # faces
    "face": _("face"),
    # hashes
    "pdq": _("PDQ perceptual hash"),
    "pdq_low_quality": _("PDQ hash of low quality"),
    "file_hashes": _("file hashes"),
    "md5": _("MD5 hash"),
    # C2PA Content Credentials
    "c2pa_none": _("no C2PA credentials"),
    "c2pa_not_checked": _("C2PA not checked"),
    "c2pa_remote_not_fetched": _("remote C2PA manifest not fetched"),
    "c2pa_invalid": _("C2PA credentials invalid"),
    "c2pa_valid": _("C2PA credentials valid"),
    "c2pa_trusted": _("C2PA credentials valid and trusted"),
    "c2pa_declares_generative_ai": _("C2PA declares generative AI"),
    # generator watermarks and metadata
    "generator_watermark": _("generator watermark"),
    "generator_watermark_none": _("no generator watermark"),
    "generator_watermark_not_checked": _("generator watermark not checked"),
    "generator_metadata": _("generator metadata"),
    "generator_metadata_none": _("no generator metadata"),
    "hidden_pixel_metadata": _("metadata hidden in pixels"),
    "declared_generative_ai": _("declared generative AI"),
    "declared_source_type": _("declared source type"),
    "saved_by_software": _("saved by software"),
    "unknown_app15_segment": _("unknown JPEG APP15 segment"),
    "pickle_code_reference": _("code reference in embedded pickle"),
    "metadata_unreadable": _("metadata unreadable"),
    # JPEG forensics and video
    "jpeg_quality": _("JPEG quality"),
    "jpeg_double_compression": _("JPEG double compression"),
    "ela_map": _("error level analysis map"),
    "video_metadata": _("video metadata"),
    # OCR and metadata
    "ocr_text": _("text read from the image"),
    "ocr_no_text": _("no text read"),
    "no_text_detected": _("no text detected (OCR skipped)"),
    "camera": _("camera"),
    "software": _("software"),
    "capture_time": _("capture time"),
    "digitised_time": _("digitised time"),
    "modified_time": _("modified time"),
    "gps_position": _("GPS position"),
    "xmp": _("XMP metadata"),
    "iptc": _("IPTC metadata"),
    "document_text": _("document text"),
    "document_properties": _("document properties"),
    "document_not_read": _("document not read (too large)"),
}

SUMMARY_CHARS = 300


def finding_label(code: str) -> str:
    """The reader's words for a finding label; a label no table knows (a model pack's own) as it is."""
    return str(FINDING_LABELS.get(code, code))


def finding_category(code: str) -> str:
    """The reader's words for a finding category, or the category as it is when unknown."""
    return str(FINDING_CATEGORIES.get(code, code))


def finding_summary(label: str, details: object) -> str:
    """One line of what an OCR or metadata finding says (camera, time, position, the text's start), for
    readers who may see a finding's details; empty for other findings."""
    if not isinstance(details, dict):
        return ""
    if label in {"camera", "software"}:
        return " ".join(str(details.get(k) or "") for k in ("make", "model", "software")).strip()
    if label in {"capture_time", "digitised_time", "modified_time"}:
        when = details.get("iso") or details.get("local") or details.get("exif") or ""
        unknown = _("time zone unknown")
        return f"{when} ({unknown})" if details.get("local") else str(when)
    if label == "gps_position":
        return f"{details.get('latitude')}, {details.get('longitude')}"
    if label in {"ocr_text", "document_text"}:
        text = " ".join(str(details.get("text") or "").split())
        return text if len(text) <= SUMMARY_CHARS else text[:SUMMARY_CHARS] + "…"
    if label in {"xmp", "iptc", "document_properties"} and isinstance(details.get("fields"), dict):
        text = "; ".join(f"{k}: {v}" for k, v in details["fields"].items())
        return text if len(text) <= SUMMARY_CHARS else text[:SUMMARY_CHARS] + "…"
    return ""
