//! CRC-32 (IEEE 802.3 polynomial, reflected, as zlib and PNG use): the `crc` crate's
//! `CRC_32_ISO_HDLC` with its 1 KB table (the same size as a hand-written table; `crc` is
//! `no_std` and its `checksum` is a `const fn`, which `include_weights!` needs to check a baked
//! file at compile time — `crc32fast` is faster on a host but not `const`).

use crc::{CRC_32_ISO_HDLC, Crc};

pub(crate) const CRC32: Crc<u32> = Crc::<u32>::new(&CRC_32_ISO_HDLC);

/// The CRC-32 of `data` (`crc32(b"123456789") == 0xCBF4_3926`). A `const fn`: weights baked into
/// firmware are checked at compile time.
pub const fn crc32(data: &[u8]) -> u32 {
    CRC32.checksum(data)
}

#[cfg(test)]
mod tests {
    #[test]
    fn check_value() {
        assert_eq!(super::crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(super::crc32(b""), 0);
    }
}
