//! CRC-64/NVME (`x-amz-checksum-crc64nvme`): reflected polynomial 0x9a6c9329ac4bc9b5, initial
//! value and final XOR all ones; slice-by-8 tables.

const POLY: u64 = 0x9a6c_9329_ac4b_c9b5;

const TABLES: [[u64; 256]; 8] = tables();

const fn tables() -> [[u64; 256]; 8] {
    let mut t = [[0u64; 256]; 8];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u64;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 == 1 { (c >> 1) ^ POLY } else { c >> 1 };
            k += 1;
        }
        t[0][i] = c;
        i += 1;
    }
    let mut i = 0;
    while i < 256 {
        let mut s = 1;
        while s < 8 {
            let prev = t[s - 1][i];
            t[s][i] = (prev >> 8) ^ t[0][(prev & 0xff) as usize];
            s += 1;
        }
        i += 1;
    }
    t
}

/// The CRC-64/NVME of `data`.
#[cfg(test)]
fn crc64nvme(data: &[u8]) -> u64 {
    crc64nvme_append(0, data)
}

/// The CRC-64/NVME of what `crc` covered followed by `data` (0 for nothing yet).
pub fn crc64nvme_append(crc: u64, data: &[u8]) -> u64 {
    let mut crc = !crc;
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        let v = crc ^ u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        crc = TABLES[7][(v & 0xff) as usize]
            ^ TABLES[6][((v >> 8) & 0xff) as usize]
            ^ TABLES[5][((v >> 16) & 0xff) as usize]
            ^ TABLES[4][((v >> 24) & 0xff) as usize]
            ^ TABLES[3][((v >> 32) & 0xff) as usize]
            ^ TABLES[2][((v >> 40) & 0xff) as usize]
            ^ TABLES[1][((v >> 48) & 0xff) as usize]
            ^ TABLES[0][(v >> 56) as usize];
    }
    for &b in chunks.remainder() {
        crc = (crc >> 8) ^ TABLES[0][((crc ^ u64::from(b)) & 0xff) as usize];
    }
    !crc
}

#[cfg(test)]
mod tests {
    #[test]
    fn check_value() {
        assert_eq!(super::crc64nvme(b"123456789"), 0xae8b_1486_0a79_9888);
        assert_eq!(super::crc64nvme(b""), 0);
        assert_eq!(
            super::crc64nvme_append(super::crc64nvme(b"12345"), b"6789"),
            0xae8b_1486_0a79_9888
        );
        // Slice-by-8 agrees with the byte-at-a-time loop across lengths.
        let data: Vec<u8> = (0..100u8).collect();
        for n in 0..data.len() {
            let mut crc = !0u64;
            for &b in &data[..n] {
                crc = (crc >> 8) ^ super::TABLES[0][((crc ^ u64::from(b)) & 0xff) as usize];
            }
            assert_eq!(super::crc64nvme(&data[..n]), !crc);
        }
    }
}
