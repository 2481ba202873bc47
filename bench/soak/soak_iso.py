"""The little ISO 8583:1993 the soak helpers need (docs/protocol.md, ASCII
profile): encode a request, decode an answer's elements, 2-byte framing, the
generated card population. Python stdlib only; a test tool, not a codec."""
import struct

# element -> (kind, length): "fixed" n/an/ans of exactly length characters, "ll" LLVAR up to length.
ELEMENTS = {
    2: ("ll", 19), 3: ("fixed", 6), 4: ("fixed", 12), 7: ("fixed", 10), 11: ("fixed", 6),
    12: ("fixed", 12), 14: ("fixed", 4), 22: ("fixed", 12), 24: ("fixed", 3), 32: ("ll", 11),
    37: ("fixed", 12), 38: ("fixed", 6), 39: ("fixed", 3), 41: ("fixed", 8), 42: ("fixed", 15),
    49: ("fixed", 3), 56: ("ll", 35),
}


def encode(mti, fields):
    """fields: {element: str}. Returns the message without its frame header."""
    present = sorted(fields)
    secondary = any(e > 64 for e in present)
    bitmap = bytearray(16 if secondary else 8)
    if secondary:
        bitmap[0] |= 0x80
    body = b""
    for e in present:
        kind, length = ELEMENTS[e]
        value = fields[e].encode("ascii")
        if kind == "fixed":
            if len(value) != length:
                raise ValueError(f"DE {e}: {len(value)} characters, {length} needed")
            body += value
        else:
            if len(value) > length:
                raise ValueError(f"DE {e}: longer than {length}")
            body += b"%02d" % len(value) + value
        bitmap[(e - 1) // 8] |= 0x80 >> ((e - 1) % 8)
    return b"%04d" % mti + bytes(bitmap) + body


def frame(message):
    return struct.pack(">H", len(message)) + message


def decode(message):
    """(mti, {element: str}) or None when the message is not one we can read."""
    try:
        mti = int(message[:4].decode("ascii"))
        bitmap = message[4:12]
        offset = 12
        if bitmap[0] & 0x80:
            bitmap += message[12:20]
            offset = 20
        fields = {}
        for e in range(2, len(bitmap) * 8 + 1):
            if not bitmap[(e - 1) // 8] & (0x80 >> ((e - 1) % 8)):
                continue
            if e not in ELEMENTS:
                return None
            kind, length = ELEMENTS[e]
            if kind == "ll":
                length = int(message[offset:offset + 2].decode("ascii"))
                offset += 2
            value = message[offset:offset + length]
            if len(value) != length:
                return None
            fields[e] = value.decode("ascii")
            offset += length
        return mti, fields
    except (ValueError, UnicodeDecodeError, IndexError):
        return None


def unframe(datagram):
    """The messages of a datagram (an incomplete tail is ignored)."""
    out = []
    while len(datagram) >= 2:
        (n,) = struct.unpack(">H", datagram[:2])
        if n > len(datagram) - 2:
            break
        if n:
            out.append(datagram[2:2 + n])
        datagram = datagram[2 + n:]
    return out


def luhn_digit(digits):
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def masked_pan(pan):
    """A PAN as logs and dumps show it (iso8583/pan_mask.c): first 6 and last 4 digits."""
    n = len(pan)
    if not pan.isdigit() or not 1 <= n <= 19:
        return "?"
    head = 6 if n > 10 else 0
    tail = 4 if n > 4 else 0
    return pan[:head] + "*" * (n - head - tail) + (pan[n - tail:] if tail else "")


def generated_pan(bin_low, index):
    """docs/protocol.md: BIN, index zero-padded to 15 digits, Luhn digit."""
    body = bin_low + str(index).zfill(15 - len(bin_low))
    return body + luhn_digit(body)


def original_data(stan, local_time, acquirer):
    """DE 56 of a reversal of a 1100."""
    return "1100" + stan + local_time + "%02d" % len(acquirer) + acquirer
