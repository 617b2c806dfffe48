//! Audio length read from the file itself, for the lip-sync limit (< 60 s).
//!
//! - WAV: exact, from the `fmt ` chunk's byte rate and the `data` chunk's size.
//! - MP3: exact for VBR files with a Xing/Info or VBRI header (frame count);
//!   otherwise an estimate from the first frame's bitrate and the file size,
//!   which is exact for constant-bitrate files.
//! - FLAC and OGG are not measured (they cannot be uploaded through PiAPI
//!   anyway), nor is any file whose header cannot be read: PiAPI checks those.

use std::time::Duration;

/// The length of a WAV file, if its header can be read.
pub(crate) fn wav_duration(bytes: &[u8]) -> Option<Duration> {
    if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return None;
    }
    let mut pos = 12;
    let mut byte_rate = None;
    while pos + 8 <= bytes.len() {
        let id = &bytes[pos..pos + 4];
        let size = u32_le(&bytes[pos + 4..pos + 8]) as usize;
        let data = pos + 8;
        match id {
            b"fmt " if data + 12 <= bytes.len() => {
                byte_rate = Some(u32_le(&bytes[data + 8..data + 12]));
            }
            b"data" => {
                // Streaming writers leave the size at 0 or u32::MAX: use what is there.
                let available = bytes.len() - data;
                let size = if size == 0 || size > available {
                    available
                } else {
                    size
                };
                let rate = byte_rate.filter(|r| *r > 0)?;
                return Some(Duration::from_secs_f64(size as f64 / f64::from(rate)));
            }
            _ => {}
        }
        // Chunks are padded to an even size.
        pos = data.checked_add(size)?.checked_add(size & 1)?;
    }
    None
}

/// The length of an MP3 file (exact with a VBR header, else estimated from
/// the first frame's bitrate), if a Layer III frame header can be found.
pub(crate) fn mp3_duration(bytes: &[u8]) -> Option<Duration> {
    let mut start = 0;
    if bytes.len() >= 10 && &bytes[0..3] == b"ID3" {
        let size = (bytes[6..10])
            .iter()
            .fold(0usize, |acc, b| (acc << 7) | usize::from(b & 0x7f));
        let footer = if bytes[5] & 0x10 != 0 { 10 } else { 0 };
        start = 10 + size + footer;
    }
    // The first frame follows the tag, possibly after some padding.
    let search_end = bytes.len().min(start.saturating_add(64 * 1024));
    let frame_pos = (start..search_end.saturating_sub(4))
        .find(|&i| FrameHeader::parse(&bytes[i..i + 4]).is_some())?;
    let header = FrameHeader::parse(&bytes[frame_pos..frame_pos + 4])?;

    if let Some(frames) = vbr_frame_count(bytes, frame_pos, &header) {
        let seconds =
            f64::from(frames) * f64::from(header.samples_per_frame) / f64::from(header.sample_rate);
        return Some(Duration::from_secs_f64(seconds));
    }
    let mut audio_bytes = bytes.len() - frame_pos;
    if bytes.len() >= 128 && &bytes[bytes.len() - 128..bytes.len() - 125] == b"TAG" {
        audio_bytes = audio_bytes.saturating_sub(128);
    }
    Some(Duration::from_secs_f64(
        audio_bytes as f64 * 8.0 / f64::from(header.bitrate),
    ))
}

/// The fields of an MPEG audio Layer III frame header that matter here.
struct FrameHeader {
    mpeg1: bool,
    mono: bool,
    bitrate: u32,
    sample_rate: u32,
    samples_per_frame: u32,
}

impl FrameHeader {
    fn parse(h: &[u8]) -> Option<FrameHeader> {
        if h[0] != 0xff || h[1] & 0xe0 != 0xe0 {
            return None;
        }
        let version = (h[1] >> 3) & 0b11; // 0: MPEG 2.5, 2: MPEG 2, 3: MPEG 1
        let layer = (h[1] >> 1) & 0b11; // 1: Layer III
        if version == 1 || layer != 1 {
            return None;
        }
        let mpeg1 = version == 3;
        const MPEG1_L3: [u32; 16] = [
            0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0,
        ];
        const MPEG2_L3: [u32; 16] = [
            0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0,
        ];
        let table = if mpeg1 { &MPEG1_L3 } else { &MPEG2_L3 };
        let kbps = table[usize::from(h[2] >> 4)];
        let rate_index = usize::from((h[2] >> 2) & 0b11);
        if kbps == 0 || rate_index == 3 {
            return None;
        }
        let base_rate = [44_100, 48_000, 32_000][rate_index];
        let sample_rate = match version {
            3 => base_rate,
            2 => base_rate / 2,
            _ => base_rate / 4,
        };
        Some(FrameHeader {
            mpeg1,
            mono: h[3] >> 6 == 3,
            bitrate: kbps * 1000,
            sample_rate,
            samples_per_frame: if mpeg1 { 1152 } else { 576 },
        })
    }
}

/// The frame count of a Xing/Info or VBRI header in the first frame.
fn vbr_frame_count(bytes: &[u8], frame: usize, header: &FrameHeader) -> Option<u32> {
    let side_info = match (header.mpeg1, header.mono) {
        (true, false) => 32,
        (true, true) => 17,
        (false, false) => 17,
        (false, true) => 9,
    };
    let xing = frame + 4 + side_info;
    if let Some(tag) = bytes.get(xing..xing + 12)
        && (&tag[0..4] == b"Xing" || &tag[0..4] == b"Info")
        && u32_be(&tag[4..8]) & 1 != 0
    {
        return Some(u32_be(&tag[8..12])).filter(|n| *n > 0);
    }
    let vbri = frame + 4 + 32;
    match bytes.get(vbri..vbri + 18) {
        Some(tag) if &tag[0..4] == b"VBRI" => Some(u32_be(&tag[14..18])).filter(|n| *n > 0),
        _ => None,
    }
}

fn u32_le(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

fn u32_be(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A PCM WAV file: 16-bit mono at `rate` Hz, `seconds` long, with an extra
    /// chunk before `data` (as many writers add).
    pub(crate) fn wav(rate: u32, seconds: f64) -> Vec<u8> {
        let samples = (f64::from(rate) * seconds) as u32;
        let data_len = samples * 2;
        let mut out = Vec::new();
        out.extend_from_slice(b"RIFF");
        out.extend_from_slice(&(36 + 10 + data_len).to_le_bytes());
        out.extend_from_slice(b"WAVE");
        out.extend_from_slice(b"fmt ");
        out.extend_from_slice(&16u32.to_le_bytes());
        out.extend_from_slice(&1u16.to_le_bytes()); // PCM
        out.extend_from_slice(&1u16.to_le_bytes()); // mono
        out.extend_from_slice(&rate.to_le_bytes());
        out.extend_from_slice(&(rate * 2).to_le_bytes()); // byte rate
        out.extend_from_slice(&2u16.to_le_bytes()); // block align
        out.extend_from_slice(&16u16.to_le_bytes()); // bits
        out.extend_from_slice(b"LIST");
        out.extend_from_slice(&1u32.to_le_bytes());
        out.push(0);
        out.push(0); // pad byte of the odd-sized chunk
        out.extend_from_slice(b"data");
        out.extend_from_slice(&data_len.to_le_bytes());
        out.resize(out.len() + data_len as usize, 0);
        out
    }

    #[test]
    fn wav_length_comes_from_the_header() {
        let d = wav_duration(&wav(8000, 2.5)).unwrap();
        assert!((d.as_secs_f64() - 2.5).abs() < 1e-3, "{d:?}");
        assert_eq!(wav_duration(b"RIFF\0\0\0\0WAVEjunk"), None);
        assert_eq!(wav_duration(b"not a wav file at all"), None);
    }

    #[test]
    fn cbr_mp3_length_is_estimated_from_the_bitrate() {
        // MPEG-1 Layer III, 128 kbit/s, 44.1 kHz, stereo; 16 000 bytes = 1 s.
        let mut mp3 = vec![0xff, 0xfb, 0x90, 0x00];
        mp3.resize(16_000, 0);
        let d = mp3_duration(&mp3).unwrap();
        assert!((d.as_secs_f64() - 1.0).abs() < 1e-6, "{d:?}");
    }

    #[test]
    fn vbr_mp3_length_comes_from_the_xing_header_after_an_id3_tag() {
        let mut mp3 = b"ID3\x04\x00\x00\x00\x00\x00\x05".to_vec();
        mp3.extend_from_slice(&[0; 5]);
        mp3.extend_from_slice(&[0xff, 0xfb, 0x90, 0x00]);
        mp3.extend_from_slice(&[0; 32]);
        mp3.extend_from_slice(b"Xing");
        mp3.extend_from_slice(&1u32.to_be_bytes());
        mp3.extend_from_slice(&3000u32.to_be_bytes()); // frames
        mp3.resize(mp3.len() + 1000, 0);
        let d = mp3_duration(&mp3).unwrap();
        let expected = 3000.0 * 1152.0 / 44_100.0;
        assert!((d.as_secs_f64() - expected).abs() < 1e-6, "{d:?}");
    }

    #[test]
    fn no_frame_no_length() {
        assert_eq!(mp3_duration(b"ID3"), None);
        assert_eq!(mp3_duration(&[0u8; 100]), None);
    }
}
