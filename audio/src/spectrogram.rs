//! Spectrogram images of short clips.
//!
//! Annotators look at the picture while they listen, so it has to show what the ear hears: a log
//! frequency axis (octaves get equal height), a dB scale, and tones that stay visible however few
//! pixel rows the image has.
use rustfft::FftPlanner;
use rustfft::num_complex::Complex;

/// How a spectrogram is drawn.
#[derive(Clone, Debug, PartialEq)]
pub struct SpectrogramOptions {
    /// Image width in pixels, one analysis frame per column (clamped to 16..=4096).
    pub width: u32,
    /// Image height in pixels, one log-frequency band per row (clamped to 16..=4096).
    pub height: u32,
    /// FFT length in samples; also the analysis window length.
    pub fft_size: usize,
    /// Frequency at the bottom edge of the image.
    pub min_hz: f32,
    /// Frequency at the top edge of the image, clamped to the Nyquist frequency.
    pub max_hz: f32,
    /// Level drawn darkest, in dB relative to a full-scale sine; 0 dB is drawn brightest.
    pub floor_db: f32,
}

impl Default for SpectrogramOptions {
    fn default() -> Self {
        Self { width: 800, height: 256, fft_size: 2048, min_hz: 30.0, max_hz: 16_000.0, floor_db: -90.0 }
    }
}

const MIN_SIDE: u32 = 16;
const MAX_SIDE: u32 = 4096;
const MIN_FFT: usize = 16;
// Far beyond any sensible window for a 10 s clip; only guards memory against absurd requests.
const MAX_FFT: usize = 1 << 16;
// Stands in for log(0) so silence stays finite before it is clamped to the floor.
const SILENCE_DB: f32 = -200.0;
// The worst-case scalloping loss of a Hann window is about 1.42 dB; a peak correction larger than
// this means the neighbouring bins were not a window main lobe, so the correction is capped.
const MAX_PEAK_CORRECTION_DB: f32 = 1.5;

/// Options with every field made usable for a given sample rate.
struct Resolved {
    width: usize,
    height: usize,
    fft_size: usize,
    axis: LogAxis,
    floor_db: f32,
}

impl Resolved {
    fn new(opts: &SpectrogramOptions, rate: u32) -> Self {
        let defaults = SpectrogramOptions::default();
        let width = opts.width.clamp(MIN_SIDE, MAX_SIDE) as usize;
        let height = opts.height.clamp(MIN_SIDE, MAX_SIDE) as usize;
        let fft_size = opts.fft_size.clamp(MIN_FFT, MAX_FFT);
        let nyquist = rate as f32 / 2.0;
        let max_hz = if opts.max_hz.is_finite() && opts.max_hz > 0.0 {
            opts.max_hz.min(nyquist)
        } else {
            nyquist.min(defaults.max_hz)
        };
        let mut min_hz = if opts.min_hz.is_finite() && opts.min_hz > 0.0 { opts.min_hz } else { defaults.min_hz };
        if min_hz >= max_hz {
            // Keep at least an octave on screen rather than a degenerate axis.
            min_hz = max_hz / 2.0;
        }
        let floor_db = if opts.floor_db.is_finite() && opts.floor_db < 0.0 { opts.floor_db } else { defaults.floor_db };
        Self { width, height, fft_size, axis: LogAxis { min_hz, max_hz, rows: height }, floor_db }
    }
}

/// The frequency axis: row 0 is the lowest band, each row spans the same frequency ratio.
#[derive(Clone, Copy, Debug)]
struct LogAxis {
    min_hz: f32,
    max_hz: f32,
    rows: usize,
}

impl LogAxis {
    /// Lower edge of band `i`; `edge(rows)` is the top of the axis.
    fn edge(&self, i: usize) -> f32 {
        let t = i as f64 / self.rows as f64;
        (self.min_hz as f64 * (self.max_hz as f64 / self.min_hz as f64).powf(t)) as f32
    }

    /// The row whose band contains `hz`, if it is on the axis.
    #[cfg(test)]
    fn row_of(&self, hz: f32) -> Option<usize> {
        if !(hz >= self.min_hz && hz < self.max_hz) {
            return None;
        }
        let t = (hz as f64 / self.min_hz as f64).ln() / (self.max_hz as f64 / self.min_hz as f64).ln();
        Some(((t * self.rows as f64) as usize).min(self.rows - 1))
    }
}

/// Centre sample of the frame drawn in column `col`: columns tile the clip evenly and each frame
/// sits in the middle of its column's stretch of time.
fn column_centre(col: usize, frames: usize, width: usize) -> usize {
    ((2 * col as u64 + 1) * frames as u64 / (2 * width as u64)) as usize
}

/// The magnitude matrix before colouring (columns × rows, dB relative to full scale), exposed for tests.
///
/// `result[column][row]`: column 0 is the start of the clip, row 0 the lowest frequency band (the
/// bottom of the image). Values are at least `floor_db`; a full-scale sine peaks near 0 dB.
pub fn magnitudes_db(samples: &[f32], channels: usize, rate: u32, opts: &SpectrogramOptions) -> Vec<Vec<f32>> {
    let r = Resolved::new(opts, rate);
    let mut out = vec![vec![r.floor_db; r.height]; r.width];
    let channels = channels.max(1);
    let frames = samples.len() / channels;
    if frames == 0 || rate == 0 {
        return out;
    }
    let mono: Vec<f32> = samples
        .chunks_exact(channels)
        .map(|frame| {
            let sum: f32 = frame.iter().map(|s| if s.is_finite() { *s } else { 0.0 }).sum();
            sum / channels as f32
        })
        .collect();

    let n = r.fft_size;
    // Periodic Hann: the usual STFT window, whose coherent gain is exactly 1/2.
    let window: Vec<f32> =
        (0..n).map(|i| (0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / n as f64).cos()) as f32).collect();
    let window_sum: f32 = window.iter().sum();
    // A sine of amplitude A shows up as A * sum(window) / 2 in its bin, so this makes a full-scale
    // sine read 0 dB whatever the window length.
    let power_scale = 4.0 / (window_sum * window_sum);

    let bin_hz = rate as f32 / n as f32;
    let half = n / 2;
    // Only the bins that can influence a row, plus one on each side for interpolation.
    let k_lo = ((r.axis.min_hz / bin_hz).floor() as usize).saturating_sub(1).min(half);
    let k_hi = ((r.axis.max_hz / bin_hz).ceil() as usize + 1).min(half);
    let used = k_hi - k_lo + 1;
    let edges: Vec<f32> = (0..=r.height).map(|i| r.axis.edge(i)).collect();

    let fft = FftPlanner::<f32>::new().plan_fft_forward(n);
    let mut buf = vec![Complex::new(0.0f32, 0.0); n];
    let mut scratch = vec![Complex::new(0.0f32, 0.0); fft.get_inplace_scratch_len()];
    let mut db = [vec![0.0f32; used], vec![0.0f32; used]];
    let mut point_hz = vec![0.0f32; used];
    let mut point_db = vec![0.0f32; used];

    // The frames are real, so two columns share one complex FFT: the first in the real part, the
    // second in the imaginary part, separated afterwards by conjugate symmetry. This halves the
    // dominant cost. An odd last column simply has an empty partner.
    for (pair, columns) in out.chunks_mut(2).enumerate() {
        buf.fill(Complex::new(0.0, 0.0));
        for (slot, col) in (2 * pair..2 * pair + columns.len()).enumerate() {
            let start = column_centre(col, frames, r.width) as isize - (n / 2) as isize;
            load_frame(&mono, &window, start, slot == 1, &mut buf);
        }
        fft.process_with_scratch(&mut buf, &mut scratch);

        let [db_re, db_im] = &mut db;
        for (j, (a, b)) in db_re.iter_mut().zip(db_im.iter_mut()).enumerate() {
            let k = k_lo + j;
            let z = buf[k];
            let mirror = buf[(n - k) % n].conj();
            let re_part = (z + mirror) * 0.5;
            let im_part = (z - mirror) * Complex::new(0.0, -0.5);
            *a = power_db(re_part.norm_sqr() * power_scale);
            *b = power_db(im_part.norm_sqr() * power_scale);
        }
        for (column, levels) in columns.iter_mut().zip(&db) {
            refine_peaks(levels, k_lo, bin_hz, &mut point_hz, &mut point_db);
            fill_rows(&point_hz, &point_db, &edges, r.floor_db, column);
        }
    }
    out
}

/// Writes the windowed frame starting at sample `start` into the real or imaginary parts of `buf`,
/// leaving zeros wherever the frame hangs over either end of the clip.
fn load_frame(mono: &[f32], window: &[f32], start: isize, imaginary: bool, buf: &mut [Complex<f32>]) {
    let n = window.len();
    let from = start.max(0) as usize;
    let to = ((start + n as isize).max(0) as usize).min(mono.len());
    if from >= to {
        return;
    }
    let offset = (from as isize - start) as usize;
    let slots = buf[offset..offset + (to - from)].iter_mut();
    for ((slot, &sample), &w) in slots.zip(&mono[from..to]).zip(&window[offset..]) {
        if imaginary {
            slot.im = sample * w;
        } else {
            slot.re = sample * w;
        }
    }
}

fn power_db(power: f32) -> f32 {
    if power > 0.0 { (10.0 * power.log10()).max(SILENCE_DB) } else { SILENCE_DB }
}

/// Turns bin levels into points of a piecewise-linear spectrum. Local maxima are moved to the
/// parabola vertex through them and their neighbours (in dB), which undoes most of the window's
/// scalloping loss and places a tone at its true frequency rather than at the nearest bin, so it
/// lands in the right pixel row.
fn refine_peaks(db: &[f32], k_lo: usize, bin_hz: f32, point_hz: &mut [f32], point_db: &mut [f32]) {
    for (j, (hz, level)) in point_hz.iter_mut().zip(point_db.iter_mut()).enumerate() {
        *hz = (k_lo + j) as f32 * bin_hz;
        *level = db[j];
        if j == 0 || j + 1 == db.len() {
            continue;
        }
        let (a, b, c) = (db[j - 1], db[j], db[j + 1]);
        // Strict on one side so a flat pair of bins yields one peak, keeping the points in order.
        if b > a && b >= c {
            let denom = a - 2.0 * b + c;
            if denom < 0.0 {
                let p = (0.5 * (a - c) / denom).clamp(-0.5, 0.5);
                *hz = (k_lo as f32 + j as f32 + p) * bin_hz;
                *level = b + (-0.25 * (a - c) * p).clamp(0.0, MAX_PEAK_CORRECTION_DB);
            }
        }
    }
}

/// Level of the piecewise-linear spectrum at `hz`, given `next`, the first point at or above it.
fn level_at(hz: f32, next: usize, point_hz: &[f32], point_db: &[f32]) -> f32 {
    if next == 0 {
        return point_db[0];
    }
    if next >= point_hz.len() {
        return point_db[point_hz.len() - 1];
    }
    let (f0, f1) = (point_hz[next - 1], point_hz[next]);
    let t = if f1 > f0 { ((hz - f0) / (f1 - f0)).clamp(0.0, 1.0) } else { 0.0 };
    point_db[next - 1] + t * (point_db[next] - point_db[next - 1])
}

/// Each row takes the maximum of the spectrum over its band: the points inside it and the
/// interpolated levels at its edges. Wide bands (high up) thus keep narrow tones, and bands
/// narrower than a bin (low down) still get a smooth value instead of gaps.
fn fill_rows(point_hz: &[f32], point_db: &[f32], edges: &[f32], floor_db: f32, column: &mut [f32]) {
    if point_hz.is_empty() {
        return;
    }
    let mut next = 0;
    for (row, cell) in column.iter_mut().enumerate() {
        let (lo, hi) = (edges[row], edges[row + 1]);
        while next < point_hz.len() && point_hz[next] < lo {
            next += 1;
        }
        let mut best = level_at(lo, next, point_hz, point_db);
        let mut inside = next;
        while inside < point_hz.len() && point_hz[inside] < hi {
            best = best.max(point_db[inside]);
            inside += 1;
        }
        best = best.max(level_at(hi, inside, point_hz, point_db));
        *cell = best.max(floor_db);
    }
}

/// Anchors of the "magma" colormap (perceptually uniform, dark purple to pale yellow), evenly
/// spaced from darkest to brightest.
const MAGMA: [[u8; 3]; 17] = [
    [0, 0, 4],
    [10, 8, 34],
    [29, 17, 71],
    [54, 16, 107],
    [81, 18, 124],
    [106, 28, 129],
    [131, 38, 129],
    [156, 46, 127],
    [183, 55, 121],
    [207, 64, 112],
    [229, 80, 100],
    [244, 105, 92],
    [251, 135, 97],
    [254, 165, 113],
    [254, 194, 135],
    [253, 224, 161],
    [252, 253, 191],
];

/// Colour for `t` in [0, 1] (clamped), interpolated between the anchors.
fn colour(t: f32) -> [u8; 3] {
    let t = if t.is_finite() { t.clamp(0.0, 1.0) } else { 0.0 };
    let pos = t * (MAGMA.len() - 1) as f32;
    let i = (pos as usize).min(MAGMA.len() - 2);
    let frac = pos - i as f32;
    let (a, b) = (MAGMA[i], MAGMA[i + 1]);
    std::array::from_fn(|c| (a[c] as f32 + frac * (b[c] as f32 - a[c] as f32)).round() as u8)
}

/// Render a log-frequency magnitude spectrogram as an 8-bit RGB PNG (time left→right, low frequencies at the bottom).
pub fn render_png(samples: &[f32], channels: usize, rate: u32, opts: &SpectrogramOptions) -> Vec<u8> {
    let r = Resolved::new(opts, rate);
    let mags = magnitudes_db(samples, channels, rate, opts);
    // A table fine enough that its steps (under 0.1 dB at the default floor) cannot be seen, so
    // each pixel costs a lookup rather than an interpolation.
    const LEVELS: usize = 1024;
    let lut: Vec<[u8; 3]> = (0..LEVELS).map(|i| colour(i as f32 / (LEVELS - 1) as f32)).collect();
    let mut rgb = Vec::with_capacity(r.width * r.height * 3);
    for y in 0..r.height {
        // Image rows run top to bottom, matrix rows bottom to top.
        let row = r.height - 1 - y;
        for column in &mags {
            let t = ((column[row] - r.floor_db) / -r.floor_db).clamp(0.0, 1.0);
            rgb.extend_from_slice(&lut[(t * (LEVELS - 1) as f32).round() as usize]);
        }
    }

    let mut png_bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut png_bytes, r.width as u32, r.height as u32);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    // Served on demand per clip: encoding speed matters more than the last few percent of size.
    encoder.set_compression(png::Compression::Fast);
    // Writing to memory cannot fail, and the dimensions and data length are consistent by
    // construction, so an error here is a bug rather than a condition to handle.
    let mut writer = encoder.write_header().expect("PNG header for in-memory image");
    writer.write_image_data(&rgb).expect("PNG data of matching size");
    writer.finish().expect("PNG trailer for in-memory image");
    png_bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATE: u32 = 44_100;

    fn sine(hz: f32, secs: f32, amp: f32) -> Vec<f32> {
        let len = (secs * RATE as f32) as usize;
        (0..len).map(|i| amp * (std::f64::consts::TAU * hz as f64 * i as f64 / RATE as f64).sin() as f32).collect()
    }

    fn axis(opts: &SpectrogramOptions) -> LogAxis {
        Resolved::new(opts, RATE).axis
    }

    fn argmax(column: &[f32]) -> usize {
        column.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map(|(i, _)| i).unwrap()
    }

    /// Columns whose analysis frame lies wholly inside the clip.
    fn interior(frames: usize, opts: &SpectrogramOptions) -> Vec<usize> {
        let r = Resolved::new(opts, RATE);
        let half = r.fft_size / 2;
        (0..r.width)
            .filter(|&c| {
                let centre = column_centre(c, frames, r.width);
                centre >= half && centre + half <= frames
            })
            .collect()
    }

    fn small_opts() -> SpectrogramOptions {
        SpectrogramOptions { width: 100, height: 128, ..SpectrogramOptions::default() }
    }

    #[test]
    fn tone_lands_in_the_row_containing_its_frequency() {
        let opts = SpectrogramOptions::default();
        let ax = axis(&opts);
        let mut rows = Vec::new();
        for hz in [1000.0, 4000.0] {
            let samples = sine(hz, 2.0, 0.5);
            let mags = magnitudes_db(&samples, 1, RATE, &opts);
            assert_eq!(mags.len(), 800);
            assert!(mags.iter().all(|c| c.len() == 256));
            let expected = ax.row_of(hz).unwrap();
            let cols = interior(samples.len(), &opts);
            assert!(cols.len() > 600);
            for c in cols {
                assert_eq!(argmax(&mags[c]), expected, "{hz} Hz, column {c}");
            }
            rows.push(expected);
        }
        assert!(rows[1] > rows[0], "4 kHz should be drawn above 1 kHz");
    }

    #[test]
    fn tones_stay_in_their_row_at_other_heights() {
        for height in [16, 64, 100, 300, 1000] {
            let opts = SpectrogramOptions { width: 40, height, ..SpectrogramOptions::default() };
            let ax = axis(&opts);
            for hz in [60.0, 80.0, 440.0, 1000.0, 3000.0, 12_000.0] {
                let samples = sine(hz, 1.0, 0.5);
                let mags = magnitudes_db(&samples, 1, RATE, &opts);
                let row = ax.row_of(hz).unwrap();
                // A tone a fraction of a hertz from a band edge may fairly be drawn on either side.
                let slack = if hz - ax.edge(row) < 0.5 || ax.edge(row + 1) - hz < 0.5 { 1 } else { 0 };
                for c in interior(samples.len(), &opts) {
                    let got = argmax(&mags[c]);
                    assert!(got.abs_diff(row) <= slack, "{hz} Hz, height {height}, column {c}: row {got}, not {row}");
                }
            }
        }
    }

    #[test]
    fn full_scale_sine_peaks_near_zero_db() {
        let opts = small_opts();
        for hz in [440.0, 1000.0, 2500.0, 7777.0] {
            let samples = sine(hz, 2.0, 1.0);
            let mags = magnitudes_db(&samples, 1, RATE, &opts);
            for c in interior(samples.len(), &opts) {
                let peak = mags[c].iter().copied().fold(f32::MIN, f32::max);
                assert!(peak.abs() <= 1.5, "{hz} Hz, column {c}: peak {peak} dB");
            }
        }
    }

    #[test]
    fn silence_sits_at_the_floor() {
        let opts = SpectrogramOptions { floor_db: -80.0, ..small_opts() };
        let mags = magnitudes_db(&vec![0.0; 2 * RATE as usize], 2, RATE, &opts);
        assert_eq!(mags.len(), 100);
        assert!(mags.iter().flatten().all(|&v| v == -80.0));
        let empty = magnitudes_db(&[], 1, RATE, &opts);
        assert!(empty.iter().flatten().all(|&v| v == -80.0));
    }

    #[test]
    fn time_runs_left_to_right() {
        let opts = SpectrogramOptions { width: 200, ..SpectrogramOptions::default() };
        let ax = axis(&opts);
        let mut samples = sine(500.0, 2.0, 0.5);
        let switch = samples.len();
        let high = sine(5000.0, 2.0, 0.5);
        samples.extend_from_slice(&high);
        let mags = magnitudes_db(&samples, 1, RATE, &opts);
        let (low_row, high_row) = (ax.row_of(500.0).unwrap(), ax.row_of(5000.0).unwrap());
        let half = opts.fft_size / 2;
        let mut seen = (0, 0);
        for c in interior(samples.len(), &opts) {
            let centre = column_centre(c, samples.len(), 200);
            if centre + half <= switch {
                assert!(c < 100);
                assert_eq!(argmax(&mags[c]), low_row, "column {c}");
                seen.0 += 1;
            } else if centre >= switch + half {
                assert!(c >= 100);
                assert_eq!(argmax(&mags[c]), high_row, "column {c}");
                seen.1 += 1;
            }
        }
        assert!(seen.0 > 80 && seen.1 > 80, "{seen:?}");
    }

    #[test]
    fn stereo_is_downmixed() {
        let opts = small_opts();
        let right = sine(1000.0, 2.0, 1.0);
        let stereo: Vec<f32> = right.iter().flat_map(|&s| [0.0, s]).collect();
        let mags = magnitudes_db(&stereo, 2, RATE, &opts);
        let row = axis(&opts).row_of(1000.0).unwrap();
        for c in interior(right.len(), &opts) {
            assert_eq!(argmax(&mags[c]), row, "column {c}");
            // Averaging with a silent channel halves the amplitude: -6 dB.
            assert!((mags[c][row] + 6.02).abs() <= 1.5, "column {c}: {}", mags[c][row]);
        }
    }

    #[test]
    fn columns_sharing_a_transform_stay_apart() {
        // Odd width, so the last column has no partner; a loud tone next to silence must not
        // leak into the silent columns.
        let opts = SpectrogramOptions { width: 101, ..small_opts() };
        let mut samples = sine(1000.0, 1.0, 1.0);
        let switch = samples.len();
        samples.resize(2 * switch, 0.0);
        let mags = magnitudes_db(&samples, 1, RATE, &opts);
        let row = axis(&opts).row_of(1000.0).unwrap();
        let half = opts.fft_size / 2;
        for c in interior(samples.len(), &opts) {
            let centre = column_centre(c, samples.len(), 101);
            if centre + half <= switch {
                assert_eq!(argmax(&mags[c]), row, "column {c}");
            } else if centre >= switch + half {
                assert!(mags[c].iter().all(|&v| v == opts.floor_db), "column {c}");
            }
        }
        assert!(mags[100].iter().all(|&v| v == opts.floor_db));
    }

    fn decode(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!(info.color_type, png::ColorType::Rgb);
        assert_eq!(info.bit_depth, png::BitDepth::Eight);
        buf.truncate(info.buffer_size());
        (info.width, info.height, buf)
    }

    fn brightness(rgb: &[u8], width: u32, y: u32) -> u32 {
        let line = (width * 3) as usize;
        rgb[y as usize * line..(y as usize + 1) * line].iter().map(|&v| v as u32).sum()
    }

    #[test]
    fn png_has_requested_size_and_low_frequencies_at_the_bottom() {
        let opts = SpectrogramOptions { width: 320, height: 120, ..SpectrogramOptions::default() };
        let samples = sine(80.0, 2.0, 0.5);
        let (w, h, rgb) = decode(&render_png(&samples, 1, RATE, &opts));
        assert_eq!((w, h), (320, 120));
        assert_eq!(rgb.len(), 320 * 120 * 3);
        let brightest = (0..h).max_by_key(|&y| brightness(&rgb, w, y)).unwrap();
        assert!(brightest >= h / 2, "brightest image row {brightest} should be in the lower half");
        let bottom: u32 = (h - h / 4..h).map(|y| brightness(&rgb, w, y)).sum();
        let top: u32 = (0..h / 4).map(|y| brightness(&rgb, w, y)).sum();
        assert!(bottom > top, "bottom {bottom} vs top {top}");
    }

    #[test]
    fn empty_input_gives_a_dark_image_and_sizes_are_clamped() {
        let opts = SpectrogramOptions { width: 3, height: 10_000, ..SpectrogramOptions::default() };
        let (w, h, rgb) = decode(&render_png(&[], 2, RATE, &opts));
        assert_eq!((w, h), (16, 4096));
        assert!(rgb.chunks_exact(3).all(|px| px == MAGMA[0]));
    }

    #[test]
    fn odd_inputs_do_not_panic() {
        let opts = SpectrogramOptions { fft_size: 0, min_hz: f32::NAN, max_hz: 1e9, floor_db: 5.0, ..small_opts() };
        let mut samples = sine(1000.0, 0.01, 1.0);
        samples[3] = f32::NAN;
        let mags = magnitudes_db(&samples, 0, 8000, &opts);
        assert!(mags.iter().flatten().all(|v| v.is_finite()));
        assert!(!render_png(&samples, 3, 0, &opts).is_empty());
        assert!(!render_png(&[0.5], 1, 1, &SpectrogramOptions::default()).is_empty());
    }

    #[test]
    fn colormap_runs_dark_to_bright() {
        let luma = |c: [u8; 3]| 299 * c[0] as u32 + 587 * c[1] as u32 + 114 * c[2] as u32;
        let steps: Vec<u32> = (0..=64).map(|i| luma(colour(i as f32 / 64.0))).collect();
        assert!(steps.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(colour(-1.0), MAGMA[0]);
        assert_eq!(colour(2.0), MAGMA[16]);
    }
}
