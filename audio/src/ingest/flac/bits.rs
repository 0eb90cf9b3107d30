//! The bit writer frames are assembled in, and the CRCs that protect them.

/// MSB-first bit writer.
pub(super) struct BitWriter {
    /// Output bytes are `buf[..pos]`; the rest is zeroed room to write into,
    /// so the hot loops write without growing the vector.
    buf: Vec<u8>,
    pos: usize,
    /// Pending bits in the low `used` bits (higher bits are stale).
    acc: u64,
    used: u32,
}

impl BitWriter {
    pub(super) fn with_capacity(bytes: usize) -> Self {
        BitWriter { buf: vec![0; bytes.max(64)], pos: 0, acc: 0, used: 0 }
    }

    pub(super) fn clear(&mut self) {
        self.pos = 0;
        self.acc = 0;
        self.used = 0;
    }

    pub(super) fn bytes(&self) -> &[u8] {
        &self.buf[..self.pos]
    }

    /// Makes room for at least `bytes` more bytes after `pos`.
    #[inline(always)]
    fn room(&mut self, bytes: usize) {
        if self.pos + bytes > self.buf.len() {
            self.grow(bytes);
        }
    }

    #[cold]
    fn grow(&mut self, bytes: usize) {
        let len = (self.pos + bytes).max(2 * self.buf.len());
        self.buf.resize(len, 0);
    }

    #[inline(always)]
    fn emit_word(&mut self) {
        self.used -= 32;
        let word = ((self.acc >> self.used) as u32).to_be_bytes();
        self.room(4);
        self.buf[self.pos..self.pos + 4].copy_from_slice(&word);
        self.pos += 4;
    }

    /// Appends the low `n` bits of `v` (`n <= 32`, `v < 2^n`).
    #[inline(always)]
    pub(super) fn put(&mut self, v: u32, n: u32) {
        debug_assert!(n <= 32 && (n == 32 || v >> n == 0));
        self.acc = (self.acc << n) | u64::from(v);
        self.used += n;
        if self.used >= 32 {
            self.emit_word();
        }
    }

    /// Appends `v` as an `n`-bit two's complement number.
    #[inline(always)]
    pub(super) fn put_signed(&mut self, v: i32, n: u32) {
        let mask = if n >= 32 { u32::MAX } else { (1u32 << n) - 1 };
        self.put(v as u32 & mask, n);
    }

    /// Appends `u` in Rice code with parameter `k` (`k <= 30`).
    pub(super) fn put_rice(&mut self, u: u32, k: u32) {
        let q = u >> k;
        let low = (u & ((1u32 << k) - 1)) | (1u32 << k);
        if q + k < 32 {
            self.put(low, q + 1 + k);
        } else {
            let mut zeros = q;
            while zeros >= 32 {
                self.put(0, 32);
                zeros -= 32;
            }
            self.put(0, zeros);
            self.put(low, k + 1);
        }
    }

    /// Appends every value of `values` in Rice code with parameter `k`
    /// (`k <= 30`): the hot loop of the encoder, with the writer's state and
    /// the output pointer in registers, room for the whole run reserved up
    /// front.
    #[inline(always)]
    pub(super) fn put_rice_run(&mut self, values: &[u32], k: u32) {
        let mask = (1u32 << k) - 1;
        let top = 1u32 << k;
        let mut rest = values;
        while !rest.is_empty() {
            // Each short code adds at most 32 bits, so at most one word.
            self.room(4 * rest.len());
            let (mut acc, mut used, mut pos) = (self.acc, self.used, self.pos);
            let end = self.buf.len();
            let out = self.buf.as_mut_ptr();
            let mut done = 0;
            for &u in rest {
                let q = u >> k;
                if q + k >= 32 {
                    break;
                }
                let n = q + 1 + k;
                acc = (acc << n) | u64::from((u & mask) | top);
                used += n;
                if used >= 32 {
                    used -= 32;
                    debug_assert!(pos + 4 <= end);
                    // SAFETY: `room` reserved 4 bytes per value from `pos`,
                    // and at most 4 bytes are written per value.
                    unsafe { out.add(pos).cast::<[u8; 4]>().write_unaligned(((acc >> used) as u32).to_be_bytes()) };
                    pos += 4;
                }
                done += 1;
            }
            (self.acc, self.used, self.pos) = (acc, used, pos);
            // A long code (rare) goes through the general path.
            if let Some(&u) = rest.get(done) {
                self.put_rice(u, k);
                done += 1;
            }
            rest = &rest[done..];
        }
    }

    /// Pads with zero bits to a byte boundary and moves every pending byte
    /// to the output.
    pub(super) fn align(&mut self) {
        let pad = (8 - self.used % 8) % 8;
        self.put(0, pad);
        self.room(8);
        while self.used >= 8 {
            self.used -= 8;
            self.buf[self.pos] = (self.acc >> self.used) as u8;
            self.pos += 1;
        }
    }

    pub(super) fn finish(&mut self) -> &[u8] {
        self.align();
        self.bytes()
    }
}

const fn crc8_table() -> [u8; 256] {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u8;
        let mut b = 0;
        while b < 8 {
            c = if c & 0x80 != 0 { (c << 1) ^ 0x07 } else { c << 1 };
            b += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
}

/// CRC-16 (polynomial 0x8005, MSB first) tables for slicing by 8:
/// `T[k][b]` is the CRC of byte `b` followed by `k` zero bytes.
const fn crc16_tables() -> [[u16; 256]; 8] {
    let mut t = [[0u16; 256]; 8];
    let mut i = 0;
    while i < 256 {
        let mut c = (i as u16) << 8;
        let mut b = 0;
        while b < 8 {
            c = if c & 0x8000 != 0 { (c << 1) ^ 0x8005 } else { c << 1 };
            b += 1;
        }
        t[0][i] = c;
        i += 1;
    }
    let mut k = 1;
    while k < 8 {
        let mut i = 0;
        while i < 256 {
            let prev = t[k - 1][i];
            t[k][i] = (prev << 8) ^ t[0][(prev >> 8) as usize];
            i += 1;
        }
        k += 1;
    }
    t
}

static CRC8: [u8; 256] = crc8_table();
static CRC16: [[u16; 256]; 8] = crc16_tables();

pub(super) fn crc8(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0u8, |c, &b| CRC8[usize::from(c ^ b)])
}

pub(super) fn crc16(bytes: &[u8]) -> u16 {
    let t = &CRC16;
    let mut c = 0u16;
    let mut chunks = bytes.chunks_exact(8);
    for b in &mut chunks {
        c = t[7][usize::from((c >> 8) as u8 ^ b[0])]
            ^ t[6][usize::from(c as u8 ^ b[1])]
            ^ t[5][usize::from(b[2])]
            ^ t[4][usize::from(b[3])]
            ^ t[3][usize::from(b[4])]
            ^ t[2][usize::from(b[5])]
            ^ t[1][usize::from(b[6])]
            ^ t[0][usize::from(b[7])];
    }
    for &b in chunks.remainder() {
        c = (c << 8) ^ t[0][usize::from((c >> 8) as u8 ^ b)];
    }
    c
}

/// Zigzag: a signed residual as the unsigned value Rice coding takes.
#[inline(always)]
pub(super) fn fold(e: i32) -> u32 {
    ((e << 1) ^ (e >> 31)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc16_slicing_matches_bytewise() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
        for len in [0usize, 1, 7, 8, 9, 100, 1000] {
            let slow = data[..len].iter().fold(0u16, |c, &b| (c << 8) ^ CRC16[0][usize::from((c >> 8) as u8 ^ b)]);
            assert_eq!(crc16(&data[..len]), slow);
        }
    }
}
