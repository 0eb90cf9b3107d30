//! Waveform thumbnails drawn as SVG from stored peaks: no audio decode, same markup on the server
//! and in the browser.
use leptos::prelude::*;

/// Reduce peaks to `columns` (min, max) pairs in [-1, 1], channels merged.
pub fn overview(peaks: &audio::peaks::Peaks, columns: usize) -> Vec<(f32, f32)> {
    let pixels = peaks.pixels();
    let channels = usize::from(peaks.channels.max(1));
    if pixels == 0 || columns == 0 {
        return Vec::new();
    }
    let scale = if peaks.bits == 8 { 127.0 } else { 32767.0 };
    (0..columns.min(pixels))
        .map(|c| {
            let from = c * pixels / columns.min(pixels);
            let to = ((c + 1) * pixels / columns.min(pixels)).max(from + 1);
            let (mut lo, mut hi) = (i16::MAX, i16::MIN);
            for p in from..to {
                for ch in 0..channels {
                    let i = (p * channels + ch) * 2;
                    lo = lo.min(peaks.data[i]);
                    hi = hi.max(peaks.data[i + 1]);
                }
            }
            (lo as f32 / scale, hi as f32 / scale)
        })
        .collect()
}

/// An SVG outline of (min, max) columns, filling its box.
#[component]
pub fn Waveform(columns: Vec<(f32, f32)>, #[prop(optional, into)] label: String) -> impl IntoView {
    let n = columns.len().max(1);
    let mut d = String::with_capacity(n * 24);
    for (i, (_, hi)) in columns.iter().enumerate() {
        d.push_str(&format!("{}{i} {:.3} ", if i == 0 { "M" } else { "L" }, 1.0 - hi.clamp(-1.0, 1.0)));
    }
    for (i, (lo, _)) in columns.iter().enumerate().rev() {
        d.push_str(&format!("L{i} {:.3} ", 1.0 - lo.clamp(-1.0, 1.0)));
    }
    d.push('Z');
    view! {
        <svg class="waveform" viewBox=format!("0 0 {} 2", n) preserveAspectRatio="none" role="img" aria-label=label>
            <path d=d />
        </svg>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use audio::peaks::Peaks;

    #[test]
    fn overview_merges_pixels_and_channels() {
        // 4 pixels, 2 channels: (min, max) per channel per pixel.
        let peaks = Peaks {
            sample_rate: 44_100,
            samples_per_pixel: 256,
            channels: 2,
            bits: 16,
            data: vec![-100, 100, -200, 50, -10, 10, 0, 0, -32767, 0, 0, 32767, 5, 6, 7, 8],
        };
        let cols = overview(&peaks, 2);
        assert_eq!(cols.len(), 2);
        assert!((cols[0].0 - (-200.0 / 32767.0)).abs() < 1e-6);
        assert!((cols[0].1 - (100.0 / 32767.0)).abs() < 1e-6);
        assert_eq!(cols[1], (-1.0, 1.0));
    }
}
