#!/usr/bin/env bash
# Installs the system packages Haetae needs when they are missing (Debian/Ubuntu, as root).
#   scripts/sysdeps.sh         what the portal, reports, OCR and URL capture need at run time
#   scripts/sysdeps.sh --test  plus what the test suite needs (poppler's pdftotext/pdftoppm/pdfsig)
set -euo pipefail
need=()
ldconfig -p 2>/dev/null | grep -q 'libmagic.so.1' || need+=(libmagic1)
# Reports embed a Korean TrueType font (NanumGothic, SIL OFL).
[ -f /usr/share/fonts/truetype/nanum/NanumGothic.ttf ] || need+=(fonts-nanum)
# compilemessages turns the portal's Korean and English catalogues into .mo files.
command -v msgfmt >/dev/null || need+=(gettext)
# The ocr detector: Tesseract with its Korean and English language data.
command -v tesseract >/dev/null || need+=(tesseract-ocr)
[ -n "$(ls /usr/share/tesseract-ocr/*/tessdata/kor.traineddata 2>/dev/null)" ] || need+=(tesseract-ocr-kor)
[ -n "$(ls /usr/share/tesseract-ocr/*/tessdata/eng.traineddata 2>/dev/null)" ] || need+=(tesseract-ocr-eng)
# Capturing a reported URL drives Debian's Chromium (through Playwright); the timestamp tests run OpenSSL's
# own RFC 3161 authority (`openssl ts -reply`).
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v openssl >/dev/null || need+=(openssl)
if [ "${1:-}" = "--test" ]; then
  command -v pdftotext >/dev/null && command -v pdfsig >/dev/null || need+=(poppler-utils)
fi
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "Haetae needs these system packages: ${need[*]}. Install them with your package manager and re-run." >&2
  exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
