"""One spelling town-wide for identifiers that arrive in many forms (serials, MACs, IPv4 addresses).

Inventory rows, drivers, probes and the simulator all compare these strings, so they are normalised the
same way everywhere; this module depends on nothing but the standard library, so that drivers need not
import the ORM to use it.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata


def _ascii(value: str) -> str:
    """Full-width letters and digits (what a Japanese IME types: ＨＷＴＣ－Ａ１Ｂ２) as ASCII, trimmed."""
    return unicodedata.normalize("NFKC", value).replace("\u2212", "-").replace("\u30fc", "-").strip()


_MAC_HEX = re.compile(r"^[0-9a-f]{12}$")


def normalise_mac(value: str) -> str:
    """``AA-BB-CC-DD-EE-FF``, ``aabb.ccdd.eeff`` or ``aabbccddeeff`` -> ``aa:bb:cc:dd:ee:ff``.

    One spelling town-wide is what makes the MAC's uniqueness meaningful. Raises ValueError.
    """
    text = _ascii(value).lower()
    parts = re.split(r"[:\-.]", text)
    # Six groups of two (colon/dash), three groups of four (Cisco dots), or twelve digits in one.
    widths = {len(p) for p in parts}
    digits = "".join(parts) if (len(parts), widths) in ((6, {2}), (3, {4}), (1, {12})) else ""
    if not _MAC_HEX.match(digits):
        raise ValueError(f"{value!r} is not a MAC address (want e.g. 00:1a:2b:3c:4d:5e)")
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2))


def locally_administered(mac: str) -> bool:
    """Whether a (normalised) MAC has the locally administered bit (0x02 of the first octet) set: the
    random per-network addresses of iPadOS 14+, Android 10+ and Windows, never a vendor's."""
    return bool(int(mac[:2], 16) & 0x02)


_SERIAL_DASHED = re.compile(r"^([A-Z0-9]{4})-?([0-9A-F]{8})$")
_SERIAL_HEX = re.compile(r"^([0-9A-F]{8})([0-9A-F]{8})$")


def normalise_serial(value: str) -> str:
    """An ONU serial in the form OLTs print next to the raw one: ``HWTC-A1B2C3D4``.

    Accepts ``HWTC-A1B2C3D4``, ``HWTCA1B2C3D4``, ``ZTEGC0000001`` and the 16-hex-digit form the
    Huawei MIB returns (``48575443A1B2C3D4``). Raises ValueError.
    """
    text = _ascii(value).upper()
    hexform = _SERIAL_HEX.match(text)
    if hexform:
        try:
            vendor = bytes.fromhex(hexform.group(1)).decode("ascii")
        except UnicodeDecodeError:
            vendor = ""
        if re.fullmatch(r"[A-Z0-9]{4}", vendor):
            return f"{vendor}-{hexform.group(2)}"
    m = _SERIAL_DASHED.match(text)
    if not m:
        raise ValueError(f"{value!r} is not an ONU serial (want e.g. HWTC-A1B2C3D4)")
    return f"{m.group(1)}-{m.group(2)}"


def normalise_ipv4(value: str) -> str:
    """A host's IPv4 address as a plain dotted quad (``192.0.2.10``), the only form the probes send to.

    Leading zeros are refused (``010`` is octal to some tools, decimal to others), and so are addresses
    no single host answers on (0.0.0.0, multicast, the limited broadcast). Raises ValueError.
    """
    text = _ascii(value)
    try:
        address = ipaddress.IPv4Address(text)
    except ValueError:
        raise ValueError(f"{text!r} is not an IPv4 address (want e.g. 192.0.2.10)") from None
    if address.is_unspecified or address.is_multicast or address == ipaddress.IPv4Address("255.255.255.255"):
        raise ValueError(f"{text} is not the address of one host")
    return str(address)


#: Hiragana (ぁ U+3041 to ゖ U+3096, and the iteration marks ゝゞ) and their katakana, 0x60 further on.
_HIRAGANA_TO_KATAKANA = {c: c + 0x60 for c in (*range(0x3041, 0x3097), 0x309D, 0x309E)}


def fold_kana(value: str) -> str:
    """A name, reading or address as a search compares it: full- and half-width alike (NFKC: ﾔﾏﾀﾞ and
    ＹＡＭＡＤＡ become ヤマダ and YAMADA), hiragana as katakana (やまだ → ヤマダ), letters case-folded and
    every space dropped (山田 太郎, 山田　太郎 and 山田太郎 compare equal)."""
    text = unicodedata.normalize("NFKC", value).translate(_HIRAGANA_TO_KATAKANA).casefold()
    return "".join(text.split())


def digits_of(value: str) -> str:
    """The digits of a phone number as a search compares them (full-width digits too): hyphens, spaces and
    brackets ignored, so 0826-72-0001, 0826720001 and ０８２６（７２）０００１ are the same number."""
    return "".join(c for c in unicodedata.normalize("NFKC", value) if c.isascii() and c.isdigit())
