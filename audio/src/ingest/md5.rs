//! MD5 (RFC 1321), for the STREAMINFO checksum of the PCM.
//!
//! A plain incremental implementation: FLAC needs the digest of the whole
//! signal, fed one block at a time.

const S: [u32; 64] = [
    7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
    4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15,
    21,
];

/// `floor(abs(sin(i + 1)) × 2^32)`.
const K: [u32; 64] = [
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501, 0x698098d8,
    0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821, 0xf61e2562, 0xc040b340,
    0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8, 0x21e1cde6, 0xc33707d6, 0xf4d50d87,
    0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a, 0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c,
    0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70, 0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039,
    0xe6db99e5, 0x1fa27cf8, 0xc4ac5665, 0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92,
    0xffeff47d, 0x85845dd1, 0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb,
    0xeb86d391,
];

#[derive(Clone)]
pub struct Md5 {
    state: [u32; 4],
    pending: [u8; 64],
    pending_len: usize,
    total: u64,
}

impl Default for Md5 {
    fn default() -> Self {
        Self::new()
    }
}

impl Md5 {
    pub fn new() -> Self {
        Md5 { state: [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476], pending: [0; 64], pending_len: 0, total: 0 }
    }

    pub fn update(&mut self, mut data: &[u8]) {
        self.total = self.total.wrapping_add(data.len() as u64);
        if self.pending_len > 0 {
            let take = (64 - self.pending_len).min(data.len());
            self.pending[self.pending_len..self.pending_len + take].copy_from_slice(&data[..take]);
            self.pending_len += take;
            data = &data[take..];
            if self.pending_len < 64 {
                return;
            }
            let block = self.pending;
            compress(&mut self.state, &block);
            self.pending_len = 0;
        }
        let mut blocks = data.chunks_exact(64);
        for block in &mut blocks {
            compress(&mut self.state, block.try_into().expect("64-byte block"));
        }
        let rest = blocks.remainder();
        self.pending[..rest.len()].copy_from_slice(rest);
        self.pending_len = rest.len();
    }

    pub fn finish(mut self) -> [u8; 16] {
        let bits = self.total.wrapping_mul(8);
        let mut tail = [0u8; 72];
        tail[0] = 0x80;
        let pad = if self.pending_len < 56 { 56 - self.pending_len } else { 120 - self.pending_len };
        tail[pad..pad + 8].copy_from_slice(&bits.to_le_bytes());
        self.update(&tail[..pad + 8]);
        debug_assert_eq!(self.pending_len, 0);
        let mut out = [0u8; 16];
        for (o, s) in out.chunks_exact_mut(4).zip(self.state) {
            o.copy_from_slice(&s.to_le_bytes());
        }
        out
    }
}

#[inline]
fn compress(state: &mut [u32; 4], block: &[u8; 64]) {
    let mut m = [0u32; 16];
    for (w, b) in m.iter_mut().zip(block.chunks_exact(4)) {
        *w = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    }
    let [mut a, mut b, mut c, mut d] = *state;
    // Every step spelled out, so rotations and message indices are constants.
    macro_rules! step {
        ($a:ident, $b:ident, $c:ident, $d:ident, $f:expr, $g:expr, $i:expr) => {
            $a = $b.wrapping_add($f.wrapping_add($a).wrapping_add(K[$i]).wrapping_add(m[$g]).rotate_left(S[$i]));
        };
    }
    macro_rules! round {
        ($fun:ident, $index:expr, $base:expr) => {
            step!(a, b, c, d, $fun(b, c, d), $index($base), $base);
            step!(d, a, b, c, $fun(a, b, c), $index($base + 1), $base + 1);
            step!(c, d, a, b, $fun(d, a, b), $index($base + 2), $base + 2);
            step!(b, c, d, a, $fun(c, d, a), $index($base + 3), $base + 3);
        };
    }
    #[inline(always)]
    fn f(x: u32, y: u32, z: u32) -> u32 {
        (x & y) | (!x & z)
    }
    #[inline(always)]
    fn g(x: u32, y: u32, z: u32) -> u32 {
        (x & z) | (y & !z)
    }
    #[inline(always)]
    fn h(x: u32, y: u32, z: u32) -> u32 {
        x ^ y ^ z
    }
    #[inline(always)]
    fn i(x: u32, y: u32, z: u32) -> u32 {
        y ^ (x | !z)
    }
    const fn i0(i: usize) -> usize {
        i
    }
    const fn i1(i: usize) -> usize {
        (5 * i + 1) % 16
    }
    const fn i2(i: usize) -> usize {
        (3 * i + 5) % 16
    }
    const fn i3(i: usize) -> usize {
        (7 * i) % 16
    }
    round!(f, i0, 0);
    round!(f, i0, 4);
    round!(f, i0, 8);
    round!(f, i0, 12);
    round!(g, i1, 16);
    round!(g, i1, 20);
    round!(g, i1, 24);
    round!(g, i1, 28);
    round!(h, i2, 32);
    round!(h, i2, 36);
    round!(h, i2, 40);
    round!(h, i2, 44);
    round!(i, i3, 48);
    round!(i, i3, 52);
    round!(i, i3, 56);
    round!(i, i3, 60);
    state[0] = state[0].wrapping_add(a);
    state[1] = state[1].wrapping_add(b);
    state[2] = state[2].wrapping_add(c);
    state[3] = state[3].wrapping_add(d);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(d: [u8; 16]) -> String {
        d.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn rfc_1321_vectors_in_any_split() {
        let cases = [
            ("", "d41d8cd98f00b204e9800998ecf8427e"),
            ("a", "0cc175b9c0f1b6a831c399e269772661"),
            ("abc", "900150983cd24fb0d6963f7d28e17f72"),
            ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
            ("abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"),
            (
                "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
                "57edf4a22be3c955ac49da2e2107b67a",
            ),
        ];
        for (input, want) in cases {
            for split in [1usize, 3, 63, 64, 65, 1000] {
                let mut md5 = Md5::new();
                for part in input.as_bytes().chunks(split) {
                    md5.update(part);
                }
                assert_eq!(hex(md5.finish()), want, "{input:?} in parts of {split}");
            }
        }
    }
}
