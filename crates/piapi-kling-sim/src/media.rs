//! The small but valid media files behind result URLs: a real MP4 (H.264,
//! 128×72, 5.1 s, embedded), PNG images (encoded here) and a WAV clip
//! (synthesized here). Each is built once and shared.

use std::sync::OnceLock;

use bytes::Bytes;

/// A 5.1-second 128×72 H.264 MP4, made with
/// `ffmpeg -f lavfi -i testsrc2=size=128x72:rate=10:duration=5.1 -c:v libx264
/// -preset veryslow -crf 45 -pix_fmt yuv420p -movflags +faststart -an`.
static SAMPLE_MP4: &[u8] = include_bytes!("../assets/sample.mp4");

/// Width and height of the served PNG.
pub(crate) const PNG_SIZE: (u32, u32) = (64, 64);

/// The served video.
pub(crate) fn mp4() -> Bytes {
    Bytes::from_static(SAMPLE_MP4)
}

/// The served cover and try-on image.
pub(crate) fn png() -> Bytes {
    static PNG: OnceLock<Bytes> = OnceLock::new();
    PNG.get_or_init(|| {
        let (w, h) = PNG_SIZE;
        Bytes::from(encode_png(w, h, |x, y| {
            [(x * 255 / w) as u8, (y * 255 / h) as u8, 0xC0]
        }))
    })
    .clone()
}

/// The served audio clip: one second of a 440 Hz tone.
pub(crate) fn wav() -> Bytes {
    static WAV: OnceLock<Bytes> = OnceLock::new();
    WAV.get_or_init(|| Bytes::from(encode_wav(8_000, 8_000, 440.0)))
        .clone()
}

/// An 8-bit RGB PNG whose pixels `pixel(x, y)` gives, compressed with
/// deflate "stored" blocks (valid zlib, no compression needed for 12 KB).
pub(crate) fn encode_png(width: u32, height: u32, pixel: impl Fn(u32, u32) -> [u8; 3]) -> Vec<u8> {
    let mut raw = Vec::with_capacity(((width * 3 + 1) * height) as usize);
    for y in 0..height {
        raw.push(0); // filter type: none
        for x in 0..width {
            raw.extend_from_slice(&pixel(x, y));
        }
    }
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    // bit depth 8, colour type 2 (RGB), deflate, adaptive filtering, no interlace
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);

    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut png, b"IHDR", &ihdr);
    chunk(&mut png, b"IDAT", &zlib_stored(&raw));
    chunk(&mut png, b"IEND", &[]);
    png
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

fn zlib_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = data.chunks(0xFFFF).collect();
    for (i, block) in blocks.iter().enumerate() {
        let last = u8::from(i + 1 == blocks.len());
        let len = block.len() as u16;
        out.push(last); // BFINAL, BTYPE=00 (stored)
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    if blocks.is_empty() {
        out.extend_from_slice(&[1, 0, 0, 0xFF, 0xFF]);
    }
    out.extend_from_slice(&adler32(data).to_be_bytes());
    out
}

fn crc32(data: &[u8]) -> u32 {
    const TABLE: [u32; 256] = {
        let mut table = [0u32; 256];
        let mut n = 0;
        while n < 256 {
            let mut c = n as u32;
            let mut k = 0;
            while k < 8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
                k += 1;
            }
            table[n] = c;
            n += 1;
        }
        table
    };
    !data.iter().fold(!0u32, |c, b| {
        TABLE[((c ^ u32::from(*b)) & 0xFF) as usize] ^ (c >> 8)
    })
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for byte in data {
        a = (a + u32::from(*byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    (b << 16) | a
}

/// A mono 16-bit PCM WAV of `samples` samples of a sine at `hz`.
pub(crate) fn encode_wav(rate: u32, samples: u32, hz: f64) -> Vec<u8> {
    let data_len = samples * 2;
    let mut wav = Vec::with_capacity(44 + data_len as usize);
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + data_len).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes()); // fmt chunk size
    wav.extend_from_slice(&1u16.to_le_bytes()); // PCM
    wav.extend_from_slice(&1u16.to_le_bytes()); // mono
    wav.extend_from_slice(&rate.to_le_bytes());
    wav.extend_from_slice(&(rate * 2).to_le_bytes()); // byte rate
    wav.extend_from_slice(&2u16.to_le_bytes()); // block align
    wav.extend_from_slice(&16u16.to_le_bytes()); // bits per sample
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&data_len.to_le_bytes());
    for i in 0..samples {
        let t = f64::from(i) / f64::from(rate);
        let sample = (f64::sin(t * hz * std::f64::consts::TAU) * 8_000.0) as i16;
        wav.extend_from_slice(&sample.to_le_bytes());
    }
    wav
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_match_known_values() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b"IEND"), 0xAE42_6082);
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
    }

    #[test]
    fn png_has_signature_header_and_end() {
        let png = encode_png(3, 2, |_, _| [1, 2, 3]);
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(&png[12..16], b"IHDR");
        assert_eq!(u32::from_be_bytes(png[16..20].try_into().unwrap()), 3);
        assert_eq!(u32::from_be_bytes(png[20..24].try_into().unwrap()), 2);
        assert_eq!(&png[png.len() - 8..png.len() - 4], b"IEND");
        // IDAT holds 2 rows of (1 filter byte + 9 bytes) in one stored block.
        let idat_len = u32::from_be_bytes(png[33..37].try_into().unwrap()) as usize;
        assert_eq!(idat_len, 2 + 5 + 20 + 4);
    }

    #[test]
    fn stored_blocks_split_at_64k() {
        let data = vec![7u8; 70_000];
        let z = zlib_stored(&data);
        assert_eq!(z.len(), 2 + (5 + 65_535) + (5 + 4_465) + 4);
        assert_eq!(z[2], 0); // first block is not final
        assert_eq!(z[2 + 5 + 65_535], 1);
    }

    #[test]
    fn wav_and_mp4_have_their_magic() {
        let wav = wav();
        assert_eq!((&wav[..4], &wav[8..12]), (&b"RIFF"[..], &b"WAVE"[..]));
        assert_eq!(wav.len(), 44 + 16_000);
        assert_eq!(&mp4()[4..8], b"ftyp");
        assert_eq!(&png()[..4], b"\x89PNG");
    }
}
