"""Guards for anything a user hands us: paths, zips, uploaded checkpoints, images and arrays.

No user-given path is used before it is resolved and checked to lie inside an allowed
folder; zips are extracted member by member with the same check and with count and size
caps; uploaded checkpoints are parsed as safetensors + JSON only (never unpickled); an uploaded
image is measured from its header before it is decoded; arrays are read as .npy without pickles.
"""
from __future__ import annotations

import io
import os
import zipfile
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

from gan_core.data.datasets import IMAGE_SUFFIXES
from gan_core.io.checkpoint import (
    GAN,
    MAX_CHECKPOINT_BYTES,
    MAX_JSON_BYTES,
    CheckpointError,
    load_checkpoint_bytes,
    parse_meta_json,
)

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

MAX_ZIP_FILES = 20000
MAX_ZIP_BYTES = 200 * 1024 * 1024
MAX_IMAGE_PIXELS = 16_000_000  # one uploaded image may decode to at most this many pixels
MAX_IMAGE_BYTES = 20 * 1024 * 1024  # one uploaded image file
IMAGE_FORMATS = ("PNG", "JPEG", "GIF", "BMP", "WEBP")  # what an upload may be (PIL's format names)
MAX_ARRAY_BYTES = 256 * 1024 * 1024  # one uploaded .npy file
ARRAY_DTYPES = ("uint8", "float16", "float32", "float64")
NPY_MAGIC = b"\x93NUMPY"


class UnsafeInputError(ValueError):
    """Input rejected for safety (path escape, zip bomb, pickle); the message says why."""


def resolve_inside(root: str | os.PathLike, user_path: str | os.PathLike) -> Path:
    """root / user_path, resolved, or UnsafeInputError when it would land outside root."""
    root = Path(root).resolve()
    text = str(user_path)
    if "\x00" in text:
        raise UnsafeInputError("path contains a NUL byte")
    candidate = (root / text).resolve()
    if candidate != root and root not in candidate.parents:
        raise UnsafeInputError(f"path {text!r} leads outside the allowed folder")
    return candidate


def is_inside(path: str | os.PathLike, roots: list[str | os.PathLike]) -> bool:
    """True when path, resolved, lies inside one of roots."""
    resolved = Path(path).resolve()
    for root in roots:
        root = Path(root).resolve()
        if resolved == root or root in resolved.parents:
            return True
    return False


def extract_image_zip(data: bytes, dest: str | os.PathLike, max_files: int = MAX_ZIP_FILES,
                      max_bytes: int = MAX_ZIP_BYTES) -> int:
    """Extract the images of an uploaded zip into dest (folders kept, for class labels); returns the count.

    Rejects, before writing anything: entries that escape dest (../, absolute paths, links),
    more than max_files entries, more than max_bytes uncompressed, and files that are not zips.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise UnsafeInputError("the upload is not a valid zip file") from None
    members = archive.infolist()
    if len(members) > max_files:
        raise UnsafeInputError(f"the zip holds {len(members)} entries; the limit is {max_files}")
    total = sum(m.file_size for m in members)
    if total > max_bytes:
        raise UnsafeInputError(f"the zip unpacks to {total / 2**20:.0f} MiB; the limit is {max_bytes // 2**20} MiB")
    dest = Path(dest)
    planned = []
    for m in members:
        name = m.filename
        if name.startswith(("/", "\\")) or ":" in name or "\x00" in name:
            raise UnsafeInputError(f"zip entry {name!r} has an absolute path")
        if "\\" in name:  # Windows separators: "..\\x" is harmless here but escapes on Windows
            raise UnsafeInputError(f"zip entry {name!r} uses backslashes; zips use / between folders")
        target = resolve_inside(dest, name)  # raises for ../ escapes
        if (m.external_attr >> 16) & 0o170000 == 0o120000:
            raise UnsafeInputError(f"zip entry {name!r} is a symbolic link")
        if not m.is_dir() and Path(name).suffix.lower() in IMAGE_SUFFIXES and not Path(name).name.startswith("."):
            planned.append((m, target))
    if not planned:
        raise UnsafeInputError(f"the zip holds no images ({', '.join(IMAGE_SUFFIXES)})")
    dest.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    try:
        for m, target in planned:
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(m) as src:
                target.write_bytes(src.read(m.file_size + 1)[: m.file_size])
            written.append(target)
            _check_image(target, m.filename)
    except (OSError, zipfile.BadZipFile, EOFError, zlib.error, UnsafeInputError) as exc:  # undo everything
        for path in written:
            path.unlink(missing_ok=True)
        if isinstance(exc, UnsafeInputError):
            raise
        raise UnsafeInputError(f"the zip could not be unpacked ({type(exc).__name__}: {str(exc)[:100]})") from None
    return len(planned)


def _check_image(path: Path, name: str) -> None:
    """Reject files that are not images or that would decode to more than MAX_IMAGE_PIXELS (header only)."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            width, height = im.size
    except (OSError, Image.DecompressionBombError, ValueError):
        raise UnsafeInputError(f"zip entry {name!r} is not a readable image") from None
    if width * height > MAX_IMAGE_PIXELS:
        raise UnsafeInputError(f"zip entry {name!r} is {width}x{height} pixels; the limit is "
                               f"{MAX_IMAGE_PIXELS // 1_000_000} megapixels")


PICKLE_MAGIC = (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05", b"PK\x03\x04")


def open_uploaded_image(data: bytes, max_bytes: int = MAX_IMAGE_BYTES, max_pixels: int | None = None) -> Image.Image:
    """An uploaded image file's bytes -> a decoded PIL image (its first frame), or UnsafeInputError.

    Refused before decoding: more than max_bytes, anything PIL does not recognise as PNG, JPEG, GIF, BMP or
    WebP (a renamed file, a pickle, text), and a header that promises more than max_pixels (a decompression
    bomb: a small file that would decode to gigabytes). Then decoded, so a truncated file is refused here too.
    """
    from PIL import Image

    max_pixels = MAX_IMAGE_PIXELS if max_pixels is None else max_pixels
    if len(data) > max_bytes:
        raise UnsafeInputError(f"the image file is {len(data) / 2**20:.1f} MiB; "
                               f"the limit is {max_bytes / 2**20:.0f} MiB")
    if not data:
        raise UnsafeInputError("the image file is empty")
    try:
        image = Image.open(io.BytesIO(data), formats=IMAGE_FORMATS)
    except Image.DecompressionBombError:
        raise UnsafeInputError(f"the image is far larger than {max_pixels // 1_000_000} megapixels (a "
                               "decompression bomb?)") from None
    except (OSError, ValueError, SyntaxError):
        raise UnsafeInputError("the file is not an image this app reads (PNG, JPEG, GIF, BMP or WebP)") from None
    width, height = image.size
    if width < 1 or height < 1 or width * height > max_pixels:
        raise UnsafeInputError(f"the image is {width}x{height} pixels; the limit is "
                               f"{max_pixels / 1_000_000:g} megapixels")
    try:
        image.seek(0)
        image.load()
    except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError) as exc:
        raise UnsafeInputError(f"the image could not be decoded ({type(exc).__name__}: {str(exc)[:100]})") from None
    return image


def load_uploaded_array(data: bytes, max_bytes: int = MAX_ARRAY_BYTES) -> np.ndarray:
    """An uploaded .npy file's bytes -> a numeric numpy array, or UnsafeInputError.

    Only the .npy format (not .npz, not a pickle) is read, with allow_pickle=False, so an object array is
    refused instead of unpickled; the dtype must be one of ARRAY_DTYPES and every value finite. The shape's
    meaning is the caller's to check.
    """
    import numpy as np

    if len(data) > max_bytes:
        raise UnsafeInputError(f"the array file is {len(data) / 2**20:.0f} MiB; the limit is {max_bytes // 2**20} MiB")
    if not data.startswith(NPY_MAGIC):
        what = ("a pickle" if data[:2] in PICKLE_MAGIC[:4] else "an .npz or zip" if data[:4] == PICKLE_MAGIC[4]
                else "not an array file")
        raise UnsafeInputError(f"the file is {what}; give a .npy file written by numpy.save (pickles are never loaded)")
    try:
        array = np.load(io.BytesIO(data), allow_pickle=False)
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise UnsafeInputError("the .npy file holds Python objects (a pickle), which are never loaded; "
                                   "save a numeric array") from None
        raise UnsafeInputError(f"the .npy file could not be read ({str(exc)[:120]})") from None
    except (OSError, EOFError) as exc:
        raise UnsafeInputError(f"the .npy file is truncated or damaged ({type(exc).__name__})") from None
    if array.dtype.name not in ARRAY_DTYPES:
        raise UnsafeInputError(f"the array's dtype is {array.dtype}; use one of {', '.join(ARRAY_DTYPES)}")
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        raise UnsafeInputError("the array holds NaN or infinite values")
    return array


def load_uploaded_checkpoint(weights: bytes, meta_json: bytes, device: str = "cpu") -> GAN:
    """Validate and load an uploaded .safetensors + .json pair; raises CheckpointError with the reason."""
    if len(weights) > MAX_CHECKPOINT_BYTES:
        raise CheckpointError(f"the weights file is {len(weights) / 2**20:.0f} MiB; the limit is "
                              f"{MAX_CHECKPOINT_BYTES // 2**20} MiB")
    if weights[:2] in PICKLE_MAGIC[:4] or weights[:4] == PICKLE_MAGIC[4]:
        raise CheckpointError("this looks like a pickle / torch.save (.pt) file; only .safetensors is accepted "
                              "(pickles can run code when loaded)")
    if len(meta_json) > MAX_JSON_BYTES:
        raise CheckpointError("the JSON file is too large to be a checkpoint description")
    meta = parse_meta_json(meta_json, "the .json file")
    return load_checkpoint_bytes(weights, meta, device)
