//! CRC-32 (IEEE 802.3 polynomial, reflected, as zlib and PNG use), table-driven.

const fn make_table() -> [u32; 256] {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
}

const TABLE: [u32; 256] = make_table();

/// The CRC-32 of `data` (`crc32(b"123456789") == 0xCBF4_3926`). A `const fn`: weights baked into
/// firmware are checked at compile time.
pub const fn crc32(data: &[u8]) -> u32 {
    let mut c = !0u32;
    let mut i = 0;
    while i < data.len() {
        c = TABLE[((c ^ data[i] as u32) & 0xff) as usize] ^ (c >> 8);
        i += 1;
    }
    !c
}

#[cfg(test)]
mod tests {
    #[test]
    fn check_value() {
        assert_eq!(super::crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(super::crc32(b""), 0);
    }
}
