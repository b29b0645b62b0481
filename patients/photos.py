"""Identification photos on disk: an upload checked to be an image, re-encoded, resized and
stored under ``settings.PHOTO_ROOT``.

Nothing of the upload is trusted: not its name, not the content type the browser declares.
Pillow must read it as one of the usual photo formats and decode it whole; it is then drawn
again as a fresh JPEG of a fixed size, which drops whatever else the file held (EXIF with
GPS position and device, comments, a script appended to a polyglot file).
"""

import os
import secrets
import warnings
from io import BytesIO
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

#: Bigger uploads are refused before Pillow reads them (issue 12: "over 10 MB").
MAX_BYTES = 10 * 1024 * 1024
#: A small file may still decode to a huge image (a "decompression bomb"): refused too.
MAX_PIXELS = 40_000_000
#: What cameras, phones and the page's canvas produce (MPO: a phone's JPEG with a preview).
FORMATS = {"JPEG", "MPO", "PNG", "WEBP"}
#: Portrait 3:4, as an identity photo: the photo of the dispense form and the patient file,
#: and the thumbnail of the lists (drawn at half size, sharp on high-density screens).
PHOTO_SIZE = (360, 480)
THUMB_SIZE = (72, 96)
SIZES = ("photo", "thumb")


def photo_reencode(upload) -> tuple[bytes, bytes]:
    """The photo and its thumbnail as fresh JPEG bytes, or ValidationError (code "photo")
    saying why the upload is refused. Reads only: nothing is written."""
    if upload.size > MAX_BYTES:
        raise ValidationError(_("This file is larger than 10 MB: take the photo again or "
                                "choose a smaller file."), code="photo")
    declared = (getattr(upload, "content_type", "") or "").lower()
    if not declared.startswith("image/"):
        raise ValidationError(_("This file is not an image: choose a photo (JPEG, PNG or "
                                "WebP)."), code="photo")
    not_a_photo = ValidationError(_("This file is not a photo that can be read (JPEG, PNG or "
                                    "WebP), whatever its name or type says."), code="photo")
    upload.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(upload) as opened:
                if opened.format not in FORMATS:
                    raise not_a_photo
                if opened.width * opened.height > MAX_PIXELS:
                    raise ValidationError(_("This image is too large to be a photo."),
                                          code="photo")
                opened.load()  # decodes it all: a truncated or forged file fails here
                image = ImageOps.exif_transpose(opened).convert("RGB")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError,
            Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise not_a_photo from None
    return _jpeg(image, PHOTO_SIZE), _jpeg(image, THUMB_SIZE)


def _jpeg(image: Image.Image, size: tuple[int, int]) -> bytes:
    """``image`` cropped to the centre and resized to ``size``, as JPEG without metadata."""
    out = BytesIO()
    ImageOps.fit(image, size, Image.Resampling.LANCZOS).save(
        out, format="JPEG", quality=85, optimize=True)
    return out.getvalue()


def photo_token() -> str:
    """A new random file name (URL-safe characters only)."""
    return secrets.token_urlsafe(24)


def photo_path(token: str, size: str = "photo") -> Path:
    if size not in SIZES or not token.replace("-", "").replace("_", "").isalnum():
        raise ValueError(f"no photo file {token!r} ({size})")
    suffix = "-thumb" if size == "thumb" else ""
    return Path(settings.PHOTO_ROOT) / f"{token}{suffix}.jpg"


def photo_files_write(token: str, photo: bytes, thumb: bytes) -> None:
    """Both files, readable by the server's account only."""
    root = Path(settings.PHOTO_ROOT)
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    for size, data in (("photo", photo), ("thumb", thumb)):
        path = photo_path(token, size)
        with open(path, "xb", opener=_private) as file:
            file.write(data)


def _private(path, flags):
    return os.open(path, flags, 0o600)


def photo_files_erase(token: str) -> None:
    for size in SIZES:
        photo_path(token, size).unlink(missing_ok=True)


def photo_read(token: str, size: str) -> bytes:
    """The file's bytes; FileNotFoundError when it is gone."""
    return photo_path(token, size).read_bytes()
