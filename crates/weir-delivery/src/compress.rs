//! The compression of delivered objects: GZIP (one gzip member), ZIP (an archive with one
//! deflated entry), Snappy (the Snappy framing format), HADOOP_SNAPPY (Hadoop's block format:
//! per block of input, its length, then the length and bytes of its raw-Snappy compression),
//! or none.

use std::io::Read;

use crate::model::Compression;

/// Compresses `data`; `entry` names the file inside a ZIP archive.
pub fn compress(format: Compression, data: Vec<u8>, entry: &str) -> std::io::Result<Vec<u8>> {
    match format {
        Compression::Uncompressed => Ok(data),
        _ => compress_from(format, &data[..], data.len(), entry),
    }
}

/// Compresses what `input` yields (`len` bytes, a hint for the output's size) without holding
/// it: a spilled buffer is compressed straight from its file.
pub fn compress_from(
    format: Compression,
    mut input: impl Read,
    len: usize,
    entry: &str,
) -> std::io::Result<Vec<u8>> {
    match format {
        Compression::Uncompressed => {
            let mut out = Vec::with_capacity(len);
            input.read_to_end(&mut out)?;
            Ok(out)
        }
        Compression::Gzip => {
            let mut e = flate2::write::GzEncoder::new(
                Vec::with_capacity(len / 4 + 64),
                flate2::Compression::fast(),
            );
            std::io::copy(&mut input, &mut e)?;
            e.finish()
        }
        Compression::Zip => zip(input, entry),
        Compression::Snappy => {
            let mut e = snap::write::FrameEncoder::new(Vec::with_capacity(len / 2 + 64));
            std::io::copy(&mut input, &mut e)?;
            e.into_inner()
                .map_err(|e| std::io::Error::other(e.to_string()))
        }
        Compression::HadoopSnappy => hadoop_snappy(input, len),
    }
}

/// Hadoop's SnappyCodec stream: blocks of 256 KiB of input, each `len(input) u32 BE`, then
/// `len(compressed) u32 BE` and the raw Snappy bytes.
fn hadoop_snappy(mut input: impl Read, len: usize) -> std::io::Result<Vec<u8>> {
    const BLOCK: usize = 256 * 1024;
    let mut out = Vec::with_capacity(len / 2 + 64);
    let mut encoder = snap::raw::Encoder::new();
    let mut block = vec![0u8; BLOCK];
    loop {
        // A block is full unless the input ends.
        let mut filled = 0;
        while filled < BLOCK {
            match input.read(&mut block[filled..])? {
                0 => break,
                n => filled += n,
            }
        }
        if filled == 0 {
            break;
        }
        let compressed = encoder
            .compress_vec(&block[..filled])
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        out.extend_from_slice(&(filled as u32).to_be_bytes());
        out.extend_from_slice(&(compressed.len() as u32).to_be_bytes());
        out.extend_from_slice(&compressed);
        if filled < BLOCK {
            break;
        }
    }
    Ok(out)
}

/// Counts and checksums what passes through.
struct Crc<R> {
    inner: R,
    hasher: crc32fast::Hasher,
    len: u64,
}

impl<R: Read> Read for Crc<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }
}

/// A ZIP archive holding the input as one deflated entry.
fn zip(input: impl Read, entry: &str) -> std::io::Result<Vec<u8>> {
    let too_big = || std::io::Error::other("a ZIP entry above 4 GiB needs ZIP64");
    let mut deflater = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut counted = Crc {
        inner: input,
        hasher: crc32fast::Hasher::new(),
        len: 0,
    };
    std::io::copy(&mut counted, &mut deflater)?;
    let deflated = deflater.finish()?;
    let crc = counted.hasher.finalize();
    let (size, csize) = (
        u32::try_from(counted.len).map_err(|_| too_big())?,
        u32::try_from(deflated.len()).map_err(|_| too_big())?,
    );
    let name = entry.as_bytes();
    let name_len = u16::try_from(name.len()).map_err(|_| too_big())?;
    // 1980-01-01 00:00 in DOS format: the entry's time is not meaningful here.
    let (dos_time, dos_date) = (0u16, 0x21u16);
    let mut out = Vec::with_capacity(deflated.len() + 2 * name.len() + 100);
    let header = |out: &mut Vec<u8>, central: bool| {
        if central {
            out.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
            out.extend_from_slice(&20u16.to_le_bytes()); // made by
        } else {
            out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        }
        out.extend_from_slice(&20u16.to_le_bytes()); // version needed
        out.extend_from_slice(&0u16.to_le_bytes()); // flags
        out.extend_from_slice(&8u16.to_le_bytes()); // deflate
        out.extend_from_slice(&dos_time.to_le_bytes());
        out.extend_from_slice(&dos_date.to_le_bytes());
        out.extend_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(&csize.to_le_bytes());
        out.extend_from_slice(&size.to_le_bytes());
        out.extend_from_slice(&name_len.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes()); // extra length
        if central {
            out.extend_from_slice(&0u16.to_le_bytes()); // comment length
            out.extend_from_slice(&0u16.to_le_bytes()); // disk number
            out.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
            out.extend_from_slice(&0u32.to_le_bytes()); // external attributes
            out.extend_from_slice(&0u32.to_le_bytes()); // local header offset
        }
        out.extend_from_slice(name);
    };
    header(&mut out, false);
    out.extend_from_slice(&deflated);
    let central_at = u32::try_from(out.len()).map_err(|_| too_big())?;
    header(&mut out, true);
    let central_len = u32::try_from(out.len()).map_err(|_| too_big())? - central_at;
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]); // disk numbers
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&central_len.to_le_bytes());
    out.extend_from_slice(&central_at.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes()); // comment length
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_round_trips() {
        let data = b"{\"a\":1}\n".repeat(1000);
        let z = compress(Compression::Gzip, data.clone(), "x").unwrap();
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(&z[..])
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, data);
    }

    #[test]
    fn snappy_formats_round_trip() {
        let data: Vec<u8> = (0..700_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        let framed = compress(Compression::Snappy, data.clone(), "x").unwrap();
        assert_eq!(&framed[..10], b"\xff\x06\x00\x00sNaPpY");
        let mut back = Vec::new();
        snap::read::FrameDecoder::new(&framed[..])
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, data);
        let hadoop = compress(Compression::HadoopSnappy, data.clone(), "x").unwrap();
        let mut at = 0;
        let mut back = Vec::new();
        while at < hadoop.len() {
            let raw = u32::from_be_bytes(hadoop[at..at + 4].try_into().unwrap()) as usize;
            let clen = u32::from_be_bytes(hadoop[at + 4..at + 8].try_into().unwrap()) as usize;
            let block = snap::raw::Decoder::new()
                .decompress_vec(&hadoop[at + 8..at + 8 + clen])
                .unwrap();
            assert_eq!(block.len(), raw);
            back.extend(block);
            at += 8 + clen;
        }
        assert_eq!(back, data);
    }

    #[test]
    fn zip_layout() {
        let data = b"hello zip ".repeat(100);
        let z = compress(Compression::Zip, data.clone(), "entry").unwrap();
        assert_eq!(&z[..4], b"PK\x03\x04");
        assert_eq!(&z[z.len() - 22..z.len() - 18], b"PK\x05\x06");
        // The local header's sizes and the deflated data decode to the input.
        let csize = u32::from_le_bytes([z[18], z[19], z[20], z[21]]) as usize;
        let start = 30 + "entry".len();
        let mut back = Vec::new();
        flate2::read::DeflateDecoder::new(&z[start..start + csize])
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, data);
    }
}
