"""The `emoji` dataset: colour emoji at 32 x 32 RGB on white, labelled by their Unicode group.

Built offline from Debian's fonts-noto-color-emoji (the glyph bitmaps, Apache-2.0) and unicode-data's
emoji-test.txt (each emoji's group), or, on a machine with neither and a network, from npm's
emoji-datasource-google tarball (Google's 64 x 64 renderings of the same Noto designs and its emoji.json
categories), fetched once with its sha512 checked, like MNIST's download. The images are built once and
cached as an .npz beside the other downloads (settings().download_dir / "emoji").

Only the fully-qualified emoji without a skin-tone modifier are taken: with the 1,785 skin-tone variants,
"People & Body" would be 59% of the data and the other groups would be drowned; the "Component" group (bare
modifiers and hair parts) is not a picture. Each glyph is cropped to its ink, scaled to fit 30 x 30 with its
aspect kept, and centred on a white 32 x 32 tile (like MNIST's digits, scaled into a fixed box).
"""
from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
import tarfile
import time
import urllib.request
import zlib
from pathlib import Path

import numpy as np

from gan_core.settings import settings

logger = logging.getLogger(__name__)

EMOJI_GROUPS = ("Smileys & Emotion", "People & Body", "Animals & Nature", "Food & Drink", "Travel & Places",
                "Activities", "Objects", "Symbols", "Flags")
EMOJI_SIZE = 32
EMOJI_FIT = 30  # the glyph's longer side, in pixels, inside the 32 x 32 tile
EMOJI_BACKGROUND = (255, 255, 255)
TEST_SHARE = 10  # percent of the emoji held out as the "test" split, chosen by a hash of each code sequence
CACHE_VERSION = 1

NOTO_FONT = Path("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf")
EMOJI_TEST_FILE = Path("/usr/share/unicode/emoji/emoji-test.txt")
NOTO_STRIKE = 109  # the one bitmap size the colour font holds (136 x 128 glyphs)
NPM_PACKAGE = "emoji-datasource-google"
NPM_VERSION = "16.0.0"
NPM_URL = f"https://registry.npmjs.org/{NPM_PACKAGE}/-/{NPM_PACKAGE}-{NPM_VERSION}.tgz"
NPM_SHA512 = "ZRexfzs7MVoLnmzZmNsO4TKhnAJp5D++Vm6PpUpH/jEQQlemp3l88CjZ+DoZ2faM9R4QxZkOPJCoT8DlPhfQ3A=="
INSTALL_HINT = ("install Debian's fonts-noto-color-emoji and unicode-data "
                "(apt-get install fonts-noto-color-emoji unicode-data), or allow the download of "
                f"{NPM_URL}")


class EmojiSourceError(FileNotFoundError):
    """Neither the Debian packages nor the npm download could give the emoji."""


def parse_emoji_test(text: str) -> list[tuple[str, int]]:
    """(code sequence "1F600" or "1F1E6 1F1E8", group index) of every fully-qualified, unmodified emoji."""
    entries, group = [], None
    for line in text.splitlines():
        if line.startswith("# group:"):
            name = line.split(":", 1)[1].strip()
            group = EMOJI_GROUPS.index(name) if name in EMOJI_GROUPS else None
            continue
        if group is None or line.startswith("#") or "; fully-qualified" not in line:
            continue
        codes = line.split(";", 1)[0].strip()
        if any(c in codes.split() for c in ("1F3FB", "1F3FC", "1F3FD", "1F3FE", "1F3FF")):
            continue  # a skin-tone variant of an emoji that is already taken
        entries.append((codes, group))
    return entries


def _fit_on_tile(rgba) -> np.ndarray:
    """Crop an RGBA glyph to its ink, scale it into EMOJI_FIT x EMOJI_FIT, centre it on the white tile."""
    from PIL import Image

    box = rgba.getchannel("A").point(lambda a: 255 if a > 8 else 0).getbbox()
    if box is None:
        raise ValueError("empty glyph")
    glyph = rgba.crop(box)
    scale = EMOJI_FIT / max(glyph.size)
    size = (max(1, round(glyph.width * scale)), max(1, round(glyph.height * scale)))
    glyph = glyph.resize(size, Image.Resampling.LANCZOS)
    tile = Image.new("RGBA", (EMOJI_SIZE, EMOJI_SIZE), EMOJI_BACKGROUND + (255,))
    tile.alpha_composite(glyph, ((EMOJI_SIZE - size[0]) // 2, (EMOJI_SIZE - size[1]) // 2))
    return np.asarray(tile.convert("RGB"), dtype=np.uint8)


def render_noto(entries: list[tuple[str, int]]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Render each emoji with the colour font; drop those it draws as more than one glyph or as a blank box."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(str(NOTO_FONT), NOTO_STRIKE)
    canvas = (4 * 136, 160)
    images, labels, codes = [], [], []
    for sequence, group in entries:
        text = "".join(chr(int(c, 16)) for c in sequence.split())
        im = Image.new("RGBA", canvas, (0, 0, 0, 0))
        ImageDraw.Draw(im).text((8, 8), text, font=font, embedded_color=True)
        box = im.getbbox()
        if box is None or box[2] - box[0] > 150:  # not in this font, or shaped as several glyphs side by side
            continue
        images.append(_fit_on_tile(im))
        labels.append(group)
        codes.append(sequence)
    return np.stack(images), np.array(labels, dtype=np.int64), codes


def build_from_noto() -> tuple[np.ndarray, np.ndarray, list[str], str]:
    entries = parse_emoji_test(EMOJI_TEST_FILE.read_text(encoding="utf-8"))
    images, labels, codes = render_noto(entries)
    return images, labels, codes, f"{NOTO_FONT} + {EMOJI_TEST_FILE}"


def _verified_download(url: str, sha512_b64: str, timeout: float = 60.0) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        data = response.read()
    digest = base64.b64encode(hashlib.sha512(data).digest()).decode()
    if digest != sha512_b64:
        raise ValueError(f"{url}: checksum mismatch (sha512 {digest[:16]}..., expected {sha512_b64[:16]}...)")
    return data


def images_from_npm_tarball(data: bytes) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Read emoji.json and the 64 x 64 PNGs straight from the tarball's bytes (nothing is extracted to disk).

    One streaming pass keeps the catalogue and the 64-pixel PNGs in memory: seeking back and forth in a gzipped
    tarball decompresses it again from the start for each file.
    """
    from PIL import Image

    catalogue, pngs = None, {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r|gz") as tar:
        for member in tar:
            if not member.isfile():
                continue
            if member.name == "package/emoji.json":
                catalogue = json.load(tar.extractfile(member))
            elif member.name.startswith("package/img/google/64/") and member.size < 1 << 20:
                pngs[member.name.rsplit("/", 1)[1]] = tar.extractfile(member).read()
    if catalogue is None:
        raise ValueError("the tarball has no package/emoji.json")
    images, labels, codes = [], [], []
    for item in sorted(catalogue, key=lambda e: e.get("sort_order", 0)):
        group, png = item.get("category"), pngs.get(str(item.get("image")))
        if group not in EMOJI_GROUPS or png is None or not item.get("has_img_google", True):
            continue
        with Image.open(io.BytesIO(png)) as im:
            images.append(_fit_on_tile(im.convert("RGBA")))
        labels.append(EMOJI_GROUPS.index(group))
        codes.append(item["unified"].replace("-", " "))
    return np.stack(images), np.array(labels, dtype=np.int64), codes


def build_from_npm() -> tuple[np.ndarray, np.ndarray, list[str], str]:
    images, labels, codes = images_from_npm_tarball(_verified_download(NPM_URL, NPM_SHA512))
    return images, labels, codes, NPM_URL


def cache_path(source: str) -> Path:
    return settings().download_dir / "emoji" / f"emoji-{source}-{EMOJI_SIZE}px-v{CACHE_VERSION}.npz"


def load_emoji_arrays() -> tuple[np.ndarray, np.ndarray, list[str], str]:
    """(images N x 32 x 32 x 3 uint8, labels, code sequences, source): the cache, else built and cached."""
    source = "noto" if NOTO_FONT.is_file() and EMOJI_TEST_FILE.is_file() else "npm"
    path = cache_path(source)
    if path.is_file():
        with np.load(path, allow_pickle=False) as cached:
            return cached["images"], cached["labels"], [str(c) for c in cached["codes"]], str(cached["source"])
    started = time.perf_counter()
    try:
        images, labels, codes, origin = build_from_noto() if source == "noto" else build_from_npm()
    except (OSError, ValueError, KeyError, tarfile.TarError) as exc:
        raise EmojiSourceError(f"emoji: could not build the dataset ({type(exc).__name__}: {str(exc)[:160]}); "
                               f"{INSTALL_HINT}") from exc
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial.npz")
    np.savez_compressed(partial, images=images, labels=labels, codes=np.array(codes), source=np.array(origin))
    partial.replace(path)
    logger.info("built %d emoji from %s in %.1f s", len(images), origin, time.perf_counter() - started)
    return images, labels, codes, origin


def in_test_split(codes: str) -> bool:
    """A fixed 10% of emoji, by a hash of the code sequence, so the split is the same from either source."""
    return zlib.crc32(codes.encode()) % 100 < TEST_SHARE


def split_index(codes: list[str], split: str) -> np.ndarray:
    """Indices of the "train" (90%) or "test" (10%) split; "all" takes every emoji."""
    if split == "all":
        return np.arange(len(codes))
    if split not in ("train", "test"):
        raise ValueError(f"unknown split {split!r}; choose train, test or all")
    want_test = split == "test"
    return np.array([i for i, c in enumerate(codes) if in_test_split(c) == want_test], dtype=np.int64)
