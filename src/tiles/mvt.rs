//! The Mapbox Vector Tile protobuf written directly: a layer's key and value tables built as
//! features are added (each value encoded once, looked up by its bytes), features appended as
//! bytes, and the tile assembled without an intermediate message tree.
//!
//! A tile over a dense hotspot holds thousands of features with half a dozen properties each;
//! building `prost` messages for them (a `Vec` per feature's tags and geometry, a `String` per
//! value, a SipHash per lookup) cost more than cutting the tile. The wire format is small
//! (vector_tile.proto 2.1): fields are written in field-number order, as `prost` writes them,
//! and the tests read every tile back through `geozero`'s generated decoder.

use rustc_hash::FxHashMap;

use super::Value;

/// Protobuf wire types.
const VARINT: u32 = 0;
const FIXED64: u32 = 1;
const LEN: u32 = 2;
const FIXED32: u32 = 5;

/// MVT geometry types (vector_tile.proto `GeomType`).
pub const POINT: u32 = 1;

fn key(field: u32, wire: u32) -> u32 {
    (field << 3) | wire
}

/// Appends `v` as a protobuf varint.
pub fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        // The low seven bits with the continuation bit; truncation is the encoding.
        #[allow(clippy::cast_possible_truncation)]
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    #[allow(clippy::cast_possible_truncation)]
    out.push(v as u8);
}

fn varint_len(v: u64) -> usize {
    // Bits needed, seven per byte, at least one byte.
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

/// Zigzag encoding of a signed tile coordinate (vector_tile.proto § 4.3.2).
#[must_use]
pub fn zigzag(v: i32) -> u32 {
    // The sign moves to the lowest bit; the casts reinterpret bits, as the encoding defines.
    #[allow(clippy::cast_sign_loss)]
    let z = ((v << 1) ^ (v >> 31)) as u32;
    z
}

fn field_bytes(out: &mut Vec<u8>, field: u32, bytes: &[u8]) {
    varint(out, u64::from(key(field, LEN)));
    varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// A layer's key and value tables, and the tags of the feature being added.
#[derive(Default)]
pub struct Tags {
    keys: Vec<Box<str>>,
    /// Encoded `Value` messages, each already framed as the layer's field 4.
    values: Vec<u8>,
    value_count: u32,
    /// Where each value's message lies in `values` (inside its framing).
    spans: Vec<(usize, usize)>,
    index: FxHashMap<Box<[u8]>, u32>,
    /// Key and value indices of every feature added, in order.
    pairs: Vec<u32>,
    scratch: Vec<u8>,
}

/// A key of a layer's key table, looked up once per tile rather than once per feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key(u32);

/// A value of a layer's value table, for callers that keep their own lookup of values that
/// repeat (a category by its code) instead of looking each one up by its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValueRef(u32);

impl Tags {
    /// The key `name` in this layer's table (added if new).
    pub fn key(&mut self, name: &str) -> Key {
        Key(self.key_index(name))
    }

    fn key_index(&mut self, name: &str) -> u32 {
        // A layer has a handful of keys: a scan beats hashing.
        if let Some(i) = self.keys.iter().position(|k| &**k == name) {
            return u32::try_from(i).unwrap_or(u32::MAX);
        }
        self.keys.push(name.into());
        u32::try_from(self.keys.len() - 1).unwrap_or(u32::MAX)
    }

    /// Adds the encoded value in `scratch` to the table (once) and the pair under `name`.
    fn push_scratch(&mut self, name: &str) {
        let k = Key(self.key_index(name));
        let v = self.intern_scratch();
        self.pair(k, v);
    }

    /// The encoded value in `scratch` in the table: looked up by its bytes, added if new.
    fn intern_scratch(&mut self) -> ValueRef {
        if let Some(i) = self.index.get(self.scratch.as_slice()) {
            return ValueRef(*i);
        }
        field_bytes(&mut self.values, 4, &self.scratch);
        self.spans
            .push((self.values.len() - self.scratch.len(), self.values.len()));
        let i = self.value_count;
        self.value_count += 1;
        self.index.insert(self.scratch.as_slice().into(), i);
        ValueRef(i)
    }

    /// A string property whose value may repeat among features (looked up, stored once).
    pub fn str(&mut self, name: &str, value: &str) {
        let k = self.key(name);
        self.str_at(k, value, true);
    }

    /// A string property that differs per feature (an id): stored without a lookup.
    pub fn str_unique(&mut self, name: &str, value: &str) {
        let k = self.key(name);
        self.str_at(k, value, false);
    }

    /// A string property under a key looked up before; `shared` when the value may repeat
    /// among features (looked up, stored once), else stored without a lookup.
    pub fn str_at(&mut self, k: Key, value: &str, shared: bool) {
        if shared {
            let v = self.shared_str(value);
            self.pair(k, v);
            return;
        }
        // Framed straight into the table: field 4 holding a Value whose field 1 is the string.
        let n = value.len();
        let inner = 1 + varint_len(n as u64) + n;
        varint(&mut self.values, u64::from(key(4, LEN)));
        varint(&mut self.values, inner as u64);
        let start = self.values.len();
        varint(&mut self.values, u64::from(key(1, LEN)));
        varint(&mut self.values, n as u64);
        self.values.extend_from_slice(value.as_bytes());
        self.spans.push((start, self.values.len()));
        let v = self.value_count;
        self.value_count += 1;
        self.pair(k, ValueRef(v));
    }

    /// The string `value` in the value table (looked up by its bytes, added if new), without
    /// adding it to a feature.
    pub fn shared_str(&mut self, value: &str) -> ValueRef {
        self.scratch.clear();
        field_bytes(&mut self.scratch, 1, value.as_bytes());
        self.intern_scratch()
    }

    /// Adds the pair `(k, v)` to the feature being added.
    pub fn pair(&mut self, Key(k): Key, ValueRef(v): ValueRef) {
        self.pairs.push(k);
        self.pairs.push(v);
    }

    /// An unsigned integer property.
    pub fn uint(&mut self, name: &str, value: u64) {
        self.value(name, &Value::Uint(value));
    }

    /// Any property value.
    pub fn value(&mut self, name: &str, value: &Value) {
        self.scratch.clear();
        let s = &mut self.scratch;
        match value {
            Value::Str(v) => field_bytes(s, 1, v.as_bytes()),
            Value::Float(v) => {
                varint(s, u64::from(key(2, FIXED32)));
                s.extend_from_slice(&v.to_le_bytes());
            }
            Value::Double(v) => {
                varint(s, u64::from(key(3, FIXED64)));
                s.extend_from_slice(&v.to_le_bytes());
            }
            Value::Int(v) => {
                varint(s, u64::from(key(4, VARINT)));
                // int64 is written as its two's complement bits.
                #[allow(clippy::cast_sign_loss)]
                varint(s, *v as u64);
            }
            Value::Uint(v) => {
                varint(s, u64::from(key(5, VARINT)));
                varint(s, *v);
            }
            Value::Sint(v) => {
                varint(s, u64::from(key(6, VARINT)));
                #[allow(clippy::cast_sign_loss)]
                varint(s, ((v << 1) ^ (v >> 63)) as u64);
            }
            Value::Bool(v) => {
                varint(s, u64::from(key(7, VARINT)));
                varint(s, u64::from(*v));
            }
        }
        self.push_scratch(name);
    }

    /// Adds the pair `(key, value)` of `source`'s tables to this one's.
    pub(super) fn copy_from(&mut self, source: &Self, key: u32, value: u32) {
        let (Some(name), Some((from, to))) = (
            source.keys.get(key as usize),
            source.spans.get(value as usize),
        ) else {
            return;
        };
        self.scratch.clear();
        self.scratch.extend_from_slice(&source.values[*from..*to]);
        self.push_scratch(name);
    }

    /// Where the next feature's pairs start.
    pub(super) fn mark(&self) -> usize {
        self.pairs.len()
    }

    pub(super) fn pairs(&self, from: usize, to: usize) -> &[u32] {
        &self.pairs[from..to]
    }
}

/// Features of one layer, written as they come.
#[derive(Default)]
pub struct Features {
    bytes: Vec<u8>,
}

impl Features {
    /// Room for about `n` features of `each` bytes.
    #[must_use]
    pub fn with_capacity(n: usize, each: usize) -> Self {
        Self {
            bytes: Vec::with_capacity(n.saturating_mul(each)),
        }
    }

    /// Appends a feature of geometry type `kind` with `tags` and the geometry `commands`.
    pub fn push(&mut self, tags: &[u32], kind: u32, commands: &[u32]) {
        let tags_len: usize = tags.iter().map(|t| varint_len(u64::from(*t))).sum();
        let geometry_len: usize = commands.iter().map(|c| varint_len(u64::from(*c))).sum();
        let framed = |len: usize| 1 + varint_len(len as u64) + len;
        let body = if tags.is_empty() { 0 } else { framed(tags_len) }
            + 1
            + varint_len(u64::from(kind))
            + framed(geometry_len);
        let out = &mut self.bytes;
        out.reserve(framed(body));
        varint(out, u64::from(key(2, LEN)));
        varint(out, body as u64);
        if !tags.is_empty() {
            varint(out, u64::from(key(2, LEN)));
            varint(out, tags_len as u64);
            for t in tags {
                varint(out, u64::from(*t));
            }
        }
        varint(out, u64::from(key(3, VARINT)));
        varint(out, u64::from(kind));
        varint(out, u64::from(key(4, LEN)));
        varint(out, geometry_len as u64);
        for c in commands {
            varint(out, u64::from(*c));
        }
    }

    /// Appends a point feature at whole tile units `(x, y)`.
    pub fn point(&mut self, tags: &[u32], x: i32, y: i32) {
        // MoveTo once, then the position relative to the cursor at the origin.
        self.push(tags, POINT, &[9, zigzag(x), zigzag(y)]);
    }
}

/// The whole tile: one layer named `name` with `features`, the key and value tables of
/// `tags`, and `extent`; written into one buffer of the right size (a tile over a hotspot is
/// a few hundred kilobytes, copied once).
#[must_use]
pub fn tile(name: &str, features: &Features, tags: &Tags, extent: u32) -> Vec<u8> {
    let framed = |len: usize| 1 + varint_len(len as u64) + len;
    let keys: usize = tags.keys.iter().map(|k| framed(k.len())).sum();
    let tail = 1 + varint_len(u64::from(extent)) + 2;
    let layer = framed(name.len()) + features.bytes.len() + keys + tags.values.len() + tail;
    let mut out = Vec::with_capacity(framed(layer));
    varint(&mut out, u64::from(key(3, LEN)));
    varint(&mut out, layer as u64);
    field_bytes(&mut out, 1, name.as_bytes());
    out.extend_from_slice(&features.bytes);
    for k in &tags.keys {
        field_bytes(&mut out, 3, k.as_bytes());
    }
    out.extend_from_slice(&tags.values);
    varint(&mut out, u64::from(key(5, VARINT)));
    varint(&mut out, u64::from(extent));
    varint(&mut out, u64::from(key(15, VARINT)));
    varint(&mut out, 2);
    debug_assert_eq!(out.len(), framed(layer));
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn varints_and_their_lengths_follow_the_specification() {
        // protobuf.dev's encoding guide: 1 is 01, 150 is 96 01, 300 is ac 02.
        let cases: [(u64, &[u8]); 5] = [
            (0, &[0]),
            (1, &[1]),
            (150, &[0x96, 0x01]),
            (300, &[0xac, 0x02]),
            (
                u64::MAX,
                &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
            ),
        ];
        for (v, bytes) in cases {
            let mut ours = Vec::new();
            varint(&mut ours, v);
            assert_eq!(ours, bytes, "{v}");
        }
        for v in [
            0u64,
            127,
            128,
            16_383,
            16_384,
            u64::from(u32::MAX),
            u64::MAX,
        ] {
            let mut ours = Vec::new();
            varint(&mut ours, v);
            assert_eq!(varint_len(v), ours.len(), "{v}");
        }
    }

    #[test]
    fn zigzag_follows_the_specification() {
        for (v, z) in [
            (0, 0),
            (-1, 1),
            (1, 2),
            (-2, 3),
            (2, 4),
            (4095, 8190),
            (-64, 127),
        ] {
            assert_eq!(zigzag(v), z, "{v}");
        }
    }
}
