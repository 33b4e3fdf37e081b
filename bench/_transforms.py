"""Altered re-uploads of a photo, for bench/robustness.py: crops, borders, rotations, captions,
overlays, screenshots and colour changes, drawn with Pillow and NumPy.

Each :class:`Transform` turns a photo into its re-upload, deterministically: what varies between
photos (which side is cropped, which way it turns, where a sticker goes) comes from the photo's
index and a random generator seeded by the photo's name and the transform's name, so the same
photo always gives the same bytes.

    >>> from _transforms import TRANSFORMS
    >>> crop = TRANSFORMS["crop 10 % one side"]
    >>> data = crop.encode(crop.apply(image, index=3, key="photo.jpg"))  # doctest: +SKIP
"""

from __future__ import annotations

import io
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont, ImageOps

from shieldwall.media import synthetic

__all__ = ["TRANSFORMS", "Transform", "largest_inner_rectangle"]

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont
Colour = tuple[int, int, int]
Render = Callable[[Image.Image, int, random.Random], Image.Image]

_SIDES = ("left", "top", "right", "bottom")
_CAPTIONS = (
    "when the fit hits different",
    "new drop this weekend, link in bio",
    "who wore it better? comment below",
    "found this at the market today",
    "rate this look 1-10",
    "my sister's wardrobe is unreal",
)
_SHOUTS = (("SALE", "50% OFF"), ("OOTD", "LINK IN BIO"), ("NEW", "IN STOCK"), ("WOW", "RATE 1-10"))
_STICKER_COLOURS: tuple[Colour, ...] = (
    (255, 204, 51),
    (255, 105, 180),
    (90, 200, 250),
    (120, 220, 90),
    (255, 120, 60),
)


@dataclass(frozen=True, slots=True)
class Transform:
    """One kind of altered re-upload: how to draw it and how it is saved."""

    name: str
    render: Render
    #: Saved as: JPEG (most re-uploads) or PNG (screenshots).
    format: str = "JPEG"
    quality: int = 90

    def apply(self, image: Image.Image, *, index: int, key: str) -> Image.Image:
        """The re-upload of ``image`` (RGB), the ``index``-th banked photo, named ``key``."""
        rng = random.Random(f"{key}\x00{self.name}")
        return self.render(image, index, rng)

    def encode(self, image: Image.Image) -> bytes:
        """The re-upload's bytes as a platform would receive them."""
        buffer = io.BytesIO()
        if self.format == "JPEG":
            image.save(buffer, "JPEG", quality=self.quality)
        else:
            image.save(buffer, self.format, compress_level=1)
        return buffer.getvalue()

    @property
    def suffix(self) -> str:
        return ".jpg" if self.format == "JPEG" else f".{self.format.lower()}"


# -- drawing helpers -------------------------------------------------------------------------


@lru_cache(maxsize=64)
def font(size: int) -> Font:
    """Pillow's own font at ``size`` pixels (Pillow >= 10.1), else its small bitmap font."""
    try:
        return ImageFont.load_default(size=max(8, size))
    except TypeError:  # Pillow < 10.1: no size argument
        return ImageFont.load_default()


def _text_width(draw: ImageDraw.ImageDraw, text: str, face: Font) -> float:
    left, _, right, _ = draw.textbbox((0, 0), text, font=face)
    return right - left


def _fit_font(draw: ImageDraw.ImageDraw, text: str, width: float, size: int) -> Font:
    """The largest font up to ``size`` in which ``text`` fits in ``width`` pixels."""
    face = font(size)
    while size > 10 and _text_width(draw, text, face) > width:
        size = int(size * 0.9)
        face = font(size)
    return face


def _wrap(draw: ImageDraw.ImageDraw, text: str, face: Font, width: float) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and _text_width(draw, f"{lines[-1]} {word}", face) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines


def _crop_side(image: Image.Image, share: float, side: str) -> Image.Image:
    w, h = image.size
    dx, dy = round(w * share), round(h * share)
    box = {
        "left": (dx, 0, w, h),
        "top": (0, dy, w, h),
        "right": (0, 0, w - dx, h),
        "bottom": (0, 0, w, h - dy),
    }[side]
    return image.crop(box)


def largest_inner_rectangle(width: int, height: int, degrees: float) -> tuple[float, float]:
    """Width and height of the largest axis-aligned rectangle inside a ``width`` x ``height``
    rectangle turned by ``degrees`` (the part of a rotated photo without corners)."""
    angle = math.radians(abs(degrees))
    sin_a, cos_a = abs(math.sin(angle)), abs(math.cos(angle))
    long_side, short_side = max(width, height), min(width, height)
    if short_side <= 2 * sin_a * cos_a * long_side or abs(sin_a - cos_a) < 1e-10:
        half = short_side / 2
        if width >= height:
            return half / sin_a, half / cos_a
        return half / cos_a, half / sin_a
    cos_2a = cos_a * cos_a - sin_a * sin_a
    return (width * cos_a - height * sin_a) / cos_2a, (height * cos_a - width * sin_a) / cos_2a


def _cover(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """``image`` scaled to cover ``size`` and centre-cropped to it."""
    return ImageOps.fit(image, size, Image.Resampling.BILINEAR)


def _scaled(image: Image.Image, width: int, max_height: int) -> Image.Image:
    scale = min(width / image.width, max_height / image.height)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS)


# -- the transforms ---------------------------------------------------------------------------


def half_size(image: Image.Image, index: int, rng: random.Random) -> Image.Image:
    return image.resize((image.width // 2, image.height // 2), Image.Resampling.LANCZOS)


def unchanged(image: Image.Image, index: int, rng: random.Random) -> Image.Image:
    return image


def crop_all_round(share: float) -> Render:
    def render(image: Image.Image, index: int, rng: random.Random) -> Image.Image:
        w, h = image.size
        dx, dy = round(w * share), round(h * share)
        return image.crop((dx, dy, w - dx, h - dy))

    return render


def crop_one_side(share: float) -> Render:
    """Crop ``share`` of the photo off one side: left, top, right, bottom in turn by photo."""

    def render(image: Image.Image, index: int, rng: random.Random) -> Image.Image:
        return _crop_side(image, share, _SIDES[index % 4])

    return render


def border(kind: str, share: float = 0.2) -> Render:
    """The photo centred on a canvas ``1 + share`` times its size (``share / 2`` each side):
    flat black or white, or the photo itself blurred and scaled up (a phone "fit" post)."""

    def render(image: Image.Image, index: int, rng: random.Random) -> Image.Image:
        w, h = image.size
        size = (round(w * (1 + share)), round(h * (1 + share)))
        if kind == "blurred":
            small = _cover(image, (max(1, size[0] // 4), max(1, size[1] // 4)))
            canvas = small.filter(ImageFilter.GaussianBlur(max(4, small.width // 12))).resize(
                size, Image.Resampling.BILINEAR
            )
        else:
            canvas = Image.new("RGB", size, (0, 0, 0) if kind == "black" else (255, 255, 255))
        canvas.paste(image, ((size[0] - w) // 2, (size[1] - h) // 2))
        return canvas

    return render


def rotate(degrees: float, *, cropped: bool) -> Render:
    """Turn by ``degrees``, anticlockwise for even photos and clockwise for odd ones; black
    corners at the same size, or cropped to the largest inner rectangle."""

    def render(image: Image.Image, index: int, rng: random.Random) -> Image.Image:
        angle = degrees if index % 2 == 0 else -degrees
        if not cropped:
            return image.rotate(angle, Image.Resampling.BICUBIC, expand=False)
        turned = image.rotate(angle, Image.Resampling.BICUBIC, expand=True)
        inner_w, inner_h = largest_inner_rectangle(image.width, image.height, degrees)
        left = (turned.width - inner_w) / 2
        top = (turned.height - inner_h) / 2
        box = (math.ceil(left), math.ceil(top), int(left + inner_w), int(top + inner_h))
        return turned.crop(box)

    return render


def mirror(image: Image.Image, index: int, rng: random.Random) -> Image.Image:
    return ImageOps.mirror(image)


def caption_bar(where: str) -> Render:
    """A flat band of ~18 % of the height above or below the photo with a caption in it;
    white with black text for even photos, black with white text for odd ones."""

    def render(image: Image.Image, index: int, rng: random.Random) -> Image.Image:
        return _caption(image, where, index, rng)

    return render


def _caption(image: Image.Image, where: str, index: int, rng: random.Random) -> Image.Image:
    w, h = image.size
    band = round(h * 0.18)
    light = index % 2 == 0
    canvas = Image.new("RGB", (w, h + band), (255, 255, 255) if light else (0, 0, 0))
    canvas.paste(image, (0, band if where == "above" else 0))
    draw = ImageDraw.Draw(canvas)
    face = font(max(10, round(band * 0.3)))
    lines = _wrap(draw, rng.choice(_CAPTIONS), face, w * 0.9)[:2]
    line_h = round(band * 0.36)
    top = (0 if where == "above" else h) + (band - line_h * len(lines)) // 2
    for k, line in enumerate(lines):
        x = (w - _text_width(draw, line, face)) / 2
        draw.text(
            (x, top + k * line_h), line, fill=(0, 0, 0) if light else (255, 255, 255), font=face
        )
    return canvas


def text_overlay(image: Image.Image, index: int, rng: random.Random) -> Image.Image:
    """Two lines of big outlined meme text over the photo, near the top and the bottom."""
    out = image.copy()
    draw = ImageDraw.Draw(out)
    w, h = out.size
    for line, y in zip(rng.choice(_SHOUTS), (0.05, 0.76), strict=True):
        face = _fit_font(draw, line, w * 0.92, round(h * 0.16))
        x = (w - _text_width(draw, line, face)) / 2
        draw.text(
            (x, h * y),
            line,
            fill=(255, 255, 255),
            font=face,
            stroke_width=max(2, round(h * 0.008)),
            stroke_fill=(0, 0, 0),
        )
    return out


def emoji_overlay(image: Image.Image, index: int, rng: random.Random) -> Image.Image:
    """Three to five sticker faces (filled circles with eyes and a smile) over the photo."""
    out = image.copy()
    draw = ImageDraw.Draw(out)
    w, h = out.size
    for _ in range(rng.randint(3, 5)):
        r = rng.uniform(0.07, 0.12) * min(w, h)
        cx, cy = rng.uniform(r, w - r), rng.uniform(r, h - r)
        colour = rng.choice(_STICKER_COLOURS)
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=colour, outline=(40, 40, 40), width=2)
        eye = r * 0.14
        for ex in (cx - r * 0.35, cx + r * 0.35):
            draw.ellipse(
                (ex - eye, cy - r * 0.35 - eye, ex + eye, cy - r * 0.35 + eye), fill=(40, 40, 40)
            )
        mouth = (cx - r * 0.55, cy - r * 0.4, cx + r * 0.55, cy + r * 0.6)
        draw.arc(mouth, 20, 160, fill=(40, 40, 40), width=max(2, round(r * 0.1)))
    return out


def phone_screenshot(image: Image.Image, index: int, rng: random.Random) -> Image.Image:
    """The photo in a social app's feed on a 1170 x 2532 phone, as a screenshot scaled by half
    (585 x 1266): status bar, header with avatar and name, the photo at full width, a row of
    icons, a caption and a tab bar; light mode for even photos, dark for odd ones."""
    width, height = 585, 1266
    light = index % 2 == 0
    bg, fg = ((255, 255, 255), (20, 20, 20)) if light else ((0, 0, 0), (235, 235, 235))
    grey = (142, 142, 147)
    canvas = Image.new("RGB", (width, height), bg)
    draw = ImageDraw.Draw(canvas)
    # status bar: clock, signal bars, battery
    draw.text((28, 12), f"{rng.randint(7, 11)}:{rng.randint(0, 59):02d}", fill=fg, font=font(17))
    for k in range(4):
        draw.rectangle((470 + k * 7, 28 - k * 4, 474 + k * 7, 31), fill=fg)
    draw.rounded_rectangle((506, 16, 546, 32), radius=4, outline=fg, width=2)
    draw.rectangle((509, 19, 509 + rng.randint(10, 34), 29), fill=fg)
    # app header: avatar, name, menu dots
    avatar = rng.choice(_STICKER_COLOURS)
    draw.ellipse((14, 54, 58, 98), fill=avatar)
    draw.text((70, 58), f"style.{rng.randint(100, 999)}", fill=fg, font=font(18))
    draw.text(
        (70, 80), "Sponsored" if rng.random() < 0.3 else "Original audio", fill=grey, font=font(13)
    )
    for k in range(3):
        draw.ellipse((540 + k * 9, 74, 545 + k * 9, 79), fill=fg)
    top = 110
    shot = _scaled(image, width, 880)
    canvas.paste(shot, ((width - shot.width) // 2, top))
    y = top + shot.height + 14
    # icons: heart, comment bubble, paper plane, bookmark
    draw.ellipse((16, y, 30, y + 14), outline=fg, width=2)
    draw.ellipse((28, y, 42, y + 14), outline=fg, width=2)
    draw.polygon(((16, y + 9), (42, y + 9), (29, y + 26)), outline=fg, width=2)
    draw.ellipse((62, y, 88, y + 26), outline=fg, width=2)
    draw.polygon(((110, y + 4), (138, y), (126, y + 26)), outline=fg, width=2)
    draw.polygon(
        ((548, y), (568, y), (568, y + 26), (558, y + 18), (548, y + 26)), outline=fg, width=2
    )
    y += 40
    draw.text((16, y), f"{rng.randint(12, 9999):,} likes", fill=fg, font=font(16))
    y += 24
    face = font(16)
    for line in _wrap(draw, f"style.{rng.randint(100, 999)} {rng.choice(_CAPTIONS)}", face, 550)[
        :3
    ]:
        if y > height - 90:
            break
        draw.text((16, y), line, fill=fg, font=face)
        y += 22
    if y < height - 90:
        draw.text((16, y + 4), f"View all {rng.randint(3, 300)} comments", fill=grey, font=face)
    # tab bar
    draw.line((0, height - 62, width, height - 62), fill=grey, width=1)
    for k in range(5):
        cx = 58 + k * 117
        draw.rounded_rectangle(
            (cx - 12, height - 46, cx + 12, height - 22), radius=5, outline=fg, width=2
        )
    draw.rounded_rectangle(
        (width // 2 - 67, height - 10, width // 2 + 67, height - 5), radius=3, fill=fg
    )
    return canvas


def desktop_screenshot(image: Image.Image, index: int, rng: random.Random) -> Image.Image:
    """The photo on a web page in a desktop browser, 1440 x 900: tab strip, address bar, a
    sidebar of links, text around the photo; the photo 40-60 % of the width (less when that
    would not fit the window's height), somewhere right of the sidebar."""
    width, height = 1440, 900
    canvas = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    dark, grey, light = (32, 33, 36), (95, 99, 104), (241, 243, 244)
    # tab strip with two tabs, the first active
    draw.rectangle((0, 0, width, 40), fill=(222, 225, 230))
    for k in range(3):
        draw.ellipse(
            (14 + k * 20, 14, 26 + k * 20, 26),
            fill=((255, 95, 87), (254, 188, 46), (40, 200, 64))[k],
        )
    draw.rounded_rectangle((80, 6, 320, 40), radius=8, fill=(255, 255, 255))
    draw.text((100, 14), "Lookbook - Spring edit", fill=dark, font=font(14))
    draw.text((350, 14), "Inbox (3)", fill=grey, font=font(14))
    # address bar
    draw.rectangle((0, 40, width, 80), fill=(255, 255, 255))
    draw.rounded_rectangle((120, 46, 1300, 74), radius=14, fill=light)
    draw.text(
        (140, 52),
        f"https://www.example-shop.com/looks/{rng.randint(1000, 99999)}",
        fill=dark,
        font=font(14),
    )
    draw.line((0, 80, width, 80), fill=(218, 220, 224))
    # sidebar
    draw.rectangle((0, 81, 240, height), fill=light)
    for k, item in enumerate(
        ("Home", "New in", "Women", "Men", "Kids", "Sale", "Saved", "Account")
    ):
        draw.text((28, 110 + k * 38), item, fill=dark, font=font(17))
    # the photo, 40-60 % of the width, fitted under the header
    top_limit = 140
    shot = _scaled(image, round(width * rng.uniform(0.4, 0.6)), height - top_limit - 20)
    x = rng.randint(270, width - shot.width - 20)
    y = rng.randint(top_limit, height - shot.height - 10)
    draw.text((270, 96), "Spring edit: what we're wearing", fill=dark, font=font(26))
    canvas.paste(shot, (x, y))
    # text beside the photo: grey lines of words in the wider free column
    face = font(15)
    left_w, right_w = x - 290, width - (x + shot.width) - 40
    col_x, col_w = (270, left_w) if left_w >= right_w else (x + shot.width + 20, right_w)
    if col_w > 120:
        words = " ".join(rng.choice(_CAPTIONS) for _ in range(40))
        line_y = top_limit
        for line in _wrap(draw, words, face, col_w):
            if line_y > height - 30:
                break
            draw.text((col_x, line_y), line, fill=grey, font=face)
            line_y += 24
    return canvas


def greyscale(image: Image.Image, index: int, rng: random.Random) -> Image.Image:
    return image.convert("L")


def colour_filter(image: Image.Image, index: int, rng: random.Random) -> Image.Image:
    """A warm, sepia-ish tint (60 % sepia mixed in) with 25 % more contrast."""
    contrasted = ImageEnhance.Contrast(image).enhance(1.25)
    rgb = np.asarray(contrasted, dtype=np.float32)
    sepia = rgb @ np.array(
        [[0.393, 0.349, 0.272], [0.769, 0.686, 0.534], [0.189, 0.168, 0.131]], dtype=np.float32
    )
    warm = 0.4 * rgb + 0.6 * sepia
    warm *= np.array([1.05, 1.0, 0.9], dtype=np.float32)
    return Image.fromarray(np.clip(warm, 0, 255).astype(np.uint8), "RGB")


def crop_then_caption(image: Image.Image, index: int, rng: random.Random) -> Image.Image:
    cropped = _crop_side(image, 0.1, _SIDES[index % 4])
    return _caption(cropped, "above" if index % 2 == 0 else "below", index, rng)


def phone_screenshot_of_crop(image: Image.Image, index: int, rng: random.Random) -> Image.Image:
    return phone_screenshot(_crop_side(image, 0.1, _SIDES[index % 4]), index, rng)


def collage(image: Image.Image, index: int, rng: random.Random) -> Image.Image:
    """The photo as one tile of a 2 x 2 collage (1080 x 1080, 8 px gutters) beside three
    generated scenes, tile chosen by photo; the photo is scaled to cover its tile."""
    size, gap = 1080, 8
    tile = (size - 3 * gap) // 2
    canvas = Image.new("RGB", (size, size), (250, 250, 250))
    mine = index % 4
    for k in range(4):
        x = gap + (k % 2) * (tile + gap)
        y = gap + (k // 2) * (tile + gap)
        if k == mine:
            part = _cover(image, (tile, tile))
        else:
            part = Image.fromarray(synthetic.scene(rng.randrange(1 << 30), tile, tile))
        canvas.paste(part, (x, y))
    return canvas


def _all() -> dict[str, Transform]:
    items = [
        Transform("half size", half_size),
        Transform("JPEG q30", unchanged, quality=30),
        Transform("crop 5 % all round", crop_all_round(0.05)),
        Transform("crop 10 % one side", crop_one_side(0.1)),
        Transform("crop 20 % one side", crop_one_side(0.2)),
        Transform("border 20 % black", border("black")),
        Transform("border 20 % white", border("white")),
        Transform("border 20 % blurred", border("blurred")),
    ]
    for degrees in (2, 4, 8):
        items.append(Transform(f"rotate {degrees}° black corners", rotate(degrees, cropped=False)))
        items.append(Transform(f"rotate {degrees}° cropped", rotate(degrees, cropped=True)))
    items += [
        Transform("mirror", mirror),
        Transform("caption bar above", caption_bar("above")),
        Transform("caption bar below", caption_bar("below")),
        Transform("text overlay", text_overlay),
        Transform("emoji overlay", emoji_overlay),
        Transform("phone screenshot", phone_screenshot, format="PNG"),
        Transform("desktop screenshot", desktop_screenshot, format="PNG"),
        Transform("greyscale", greyscale),
        Transform("colour filter", colour_filter),
        Transform("crop 10 % + caption bar", crop_then_caption),
        Transform("phone screenshot of crop 10 %", phone_screenshot_of_crop, format="PNG"),
        Transform("collage 2 x 2", collage),
    ]
    return {t.name: t for t in items}


#: Every transform by name, in the order the report lists them.
TRANSFORMS: dict[str, Transform] = _all()
