//! The `geo` command family: a geo index is a sorted set whose scores are
//! 52-bit interleaved geohashes, as in Redis 7.0 (`geo.c`, `geohash.c`,
//! `geohash_helper.c`). Searches scan the nine geohash boxes Redis picks
//! (the centre cell and its eight neighbours at the estimated step), filter
//! by Redis's haversine distance, and reply with its number formats.

use bytes::Bytes;
use lunakv_protocol::{parse_i64, Reply};

use crate::cmd::zset::{build_zset, get_zset, run, score_arg, zadd, R};
use crate::command::Cmd;
use crate::ctx::{eq_ic, notify, Ctx};
use crate::errors;
use crate::types::zset::ZSet;
use crate::value::{Entry, Value};

/// Declares the family's commands.
pub fn register(v: &mut Vec<Cmd>) {
    const G: &str = "geo";
    v.push(
        Cmd::new(
            "geoadd",
            -5,
            "write denyoom",
            (1, 1, 1),
            G,
            "Add one or more geospatial items in the geospatial index represented using a sorted set",
            |c, a| run(geoadd(c, a)),
        )
        .syntax("key [NX | XX] [CH] longitude latitude member [longitude latitude member ...]")
        .since("3.2.0")
        .complexity("O(log(N)) for each item added, where N is the number of elements in the sorted set."),
    );
    v.push(
        Cmd::new(
            "geodist",
            -4,
            "readonly",
            (1, 1, 1),
            G,
            "Returns the distance between two members of a geospatial index",
            |c, a| run(geodist(c, a)),
        )
        .syntax("key member1 member2 [M | KM | FT | MI]")
        .since("3.2.0")
        .complexity("O(log(N))"),
    );
    v.push(
        Cmd::new(
            "geohash",
            -2,
            "readonly",
            (1, 1, 1),
            G,
            "Returns members of a geospatial index as standard geohash strings",
            |c, a| run(geohash(c, a)),
        )
        .syntax("key [member [member ...]]")
        .since("3.2.0")
        .complexity("O(log(N)) for each member requested, where N is the number of elements in the sorted set."),
    );
    v.push(
        Cmd::new(
            "geopos",
            -2,
            "readonly",
            (1, 1, 1),
            G,
            "Returns longitude and latitude of members of a geospatial index",
            |c, a| run(geopos(c, a)),
        )
        .syntax("key [member [member ...]]")
        .since("3.2.0")
        .complexity("O(N) where N is the number of members requested."),
    );
    const RADIUS_CX: &str = "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index.";
    v.push(
        Cmd::new(
            "georadius",
            -6,
            "write denyoom",
            (1, 1, 1),
            G,
            "Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a point",
            |c, a| run(search(c, a, 1, RADIUS_COORDS)),
        )
        .syntax("key longitude latitude radius M | KM | FT | MI [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC | DESC] [STORE key] [STOREDIST key]")
        .since("3.2.0")
        .complexity(RADIUS_CX)
        .keys_fn(georadius_keys),
    );
    v.push(
        Cmd::new(
            "georadius_ro",
            -6,
            "readonly",
            (1, 1, 1),
            G,
            "A read-only variant for GEORADIUS",
            |c, a| run(search(c, a, 1, RADIUS_COORDS | RADIUS_NOSTORE)),
        )
        .syntax("key longitude latitude radius M | KM | FT | MI [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC | DESC]")
        .since("3.2.10")
        .complexity(RADIUS_CX),
    );
    v.push(
        Cmd::new(
            "georadiusbymember",
            -5,
            "write denyoom",
            (1, 1, 1),
            G,
            "Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a member",
            |c, a| run(search(c, a, 1, RADIUS_MEMBER)),
        )
        .syntax("key member radius M | KM | FT | MI [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC | DESC] [STORE key] [STOREDIST key]")
        .since("3.2.0")
        .complexity(RADIUS_CX)
        .keys_fn(georadiusbymember_keys),
    );
    v.push(
        Cmd::new(
            "georadiusbymember_ro",
            -5,
            "readonly",
            (1, 1, 1),
            G,
            "A read-only variant for GEORADIUSBYMEMBER",
            |c, a| run(search(c, a, 1, RADIUS_MEMBER | RADIUS_NOSTORE)),
        )
        .syntax("key member radius M | KM | FT | MI [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC | DESC]")
        .since("3.2.10")
        .complexity(RADIUS_CX),
    );
    v.push(
        Cmd::new(
            "geosearch",
            -7,
            "readonly",
            (1, 1, 1),
            G,
            "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle.",
            |c, a| run(search(c, a, 1, GEOSEARCH)),
        )
        .syntax("key FROMMEMBER member | FROMLONLAT longitude latitude BYRADIUS radius M | KM | FT | MI | BYBOX width height M | KM | FT | MI [ASC | DESC] [COUNT count [ANY]] [WITHCOORD] [WITHDIST] [WITHHASH]")
        .since("6.2.0")
        .complexity("O(N+log(M)) where N is the number of elements in the grid-aligned bounding box area around the shape provided as the filter and M is the number of items inside the shape"),
    );
    v.push(
        Cmd::new(
            "geosearchstore",
            -8,
            "write denyoom",
            (1, 2, 1),
            G,
            "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle, and store the result in another key.",
            |c, a| run(search(c, a, 2, GEOSEARCH | GEOSEARCHSTORE)),
        )
        .syntax("destination source FROMMEMBER member | FROMLONLAT longitude latitude BYRADIUS radius M | KM | FT | MI | BYBOX width height M | KM | FT | MI [ASC | DESC] [COUNT count [ANY]] [STOREDIST]")
        .since("6.2.0")
        .complexity("O(N+log(M)) where N is the number of elements in the grid-aligned bounding box area around the shape provided as the filter and M is the number of items inside the shape"),
    );
}

/// The key after the first `kw` searched from `start` up to the
/// next-to-last argument (a key spec's keyword search).
fn keyword_key(args: &[Bytes], kw: &str, start: usize) -> Option<usize> {
    (start..args.len().saturating_sub(1))
        .find(|&i| eq_ic(&args[i], kw))
        .map(|i| i + 1)
}

/// Key positions as Redis's key specs give them: the source, then the
/// STORE and STOREDIST targets searched from `start`.
fn radius_keys(args: &[Bytes], start: usize) -> Vec<usize> {
    let mut v = vec![1];
    v.extend(keyword_key(args, "store", start));
    v.extend(keyword_key(args, "storedist", start));
    v
}

fn georadius_keys(args: &[Bytes]) -> Vec<usize> {
    radius_keys(args, 6)
}

fn georadiusbymember_keys(args: &[Bytes]) -> Vec<usize> {
    radius_keys(args, 5)
}

// ---------------------------------------------------------------- geohash

const LAT_MIN: f64 = -85.05112878;
const LAT_MAX: f64 = 85.05112878;
const LONG_MIN: f64 = -180.0;
const LONG_MAX: f64 = 180.0;
const STEP_MAX: u8 = 26;
/// Redis's earth radius (quadratic mean radius for WGS-84), in meters.
const EARTH_RADIUS: f64 = 6372797.560856;
const MERCATOR_MAX: f64 = 20037726.37;
const D_R: f64 = std::f64::consts::PI / 180.0;

fn deg_rad(a: f64) -> f64 {
    a * D_R
}

fn rad_deg(a: f64) -> f64 {
    a / D_R
}

/// A geohash of `step` bits per coordinate.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
struct Bits {
    bits: u64,
    step: u8,
}

impl Bits {
    fn is_zero(&self) -> bool {
        self.bits == 0 && self.step == 0
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct Range {
    min: f64,
    max: f64,
}

#[derive(Clone, Copy, Debug, Default)]
struct Area {
    lon: Range,
    lat: Range,
}

const LON_RANGE: Range = Range {
    min: LONG_MIN,
    max: LONG_MAX,
};
const LAT_RANGE: Range = Range {
    min: LAT_MIN,
    max: LAT_MAX,
};

fn interleave64(xlo: u32, ylo: u32) -> u64 {
    const B: [u64; 5] = [
        0x5555555555555555,
        0x3333333333333333,
        0x0F0F0F0F0F0F0F0F,
        0x00FF00FF00FF00FF,
        0x0000FFFF0000FFFF,
    ];
    const S: [u32; 5] = [1, 2, 4, 8, 16];
    let mut x = xlo as u64;
    let mut y = ylo as u64;
    for i in (0..5).rev() {
        x = (x | (x << S[i])) & B[i];
        y = (y | (y << S[i])) & B[i];
    }
    x | (y << 1)
}

fn deinterleave64(interleaved: u64) -> u64 {
    const B: [u64; 6] = [
        0x5555555555555555,
        0x3333333333333333,
        0x0F0F0F0F0F0F0F0F,
        0x00FF00FF00FF00FF,
        0x0000FFFF0000FFFF,
        0x00000000FFFFFFFF,
    ];
    const S: [u32; 6] = [0, 1, 2, 4, 8, 16];
    let mut x = interleaved;
    let mut y = interleaved >> 1;
    for i in 0..6 {
        x = (x | (x >> S[i])) & B[i];
        y = (y | (y >> S[i])) & B[i];
    }
    x | (y << 32)
}

/// `geohashEncode`: None outside the supported coordinates.
fn encode(lon_r: Range, lat_r: Range, lon: f64, lat: f64, step: u8) -> Option<Bits> {
    if step > 32 || step == 0 {
        return None;
    }
    if !(LONG_MIN..=LONG_MAX).contains(&lon) || !(LAT_MIN..=LAT_MAX).contains(&lat) {
        return None;
    }
    if lat < lat_r.min || lat > lat_r.max || lon < lon_r.min || lon > lon_r.max {
        return None;
    }
    let scale = (1u64 << step) as f64;
    let lat_off = (lat - lat_r.min) / (lat_r.max - lat_r.min) * scale;
    let lon_off = (lon - lon_r.min) / (lon_r.max - lon_r.min) * scale;
    Some(Bits {
        bits: interleave64(lat_off as u32, lon_off as u32),
        step,
    })
}

fn encode_wgs84(lon: f64, lat: f64, step: u8) -> Option<Bits> {
    encode(LON_RANGE, LAT_RANGE, lon, lat, step)
}

/// `geohashDecode` over the WGS84 ranges.
fn decode(h: Bits) -> Option<Area> {
    if h.is_zero() {
        return None;
    }
    let sep = deinterleave64(h.bits);
    let lat_scale = LAT_RANGE.max - LAT_RANGE.min;
    let lon_scale = LON_RANGE.max - LON_RANGE.min;
    let ilato = sep as u32;
    let ilono = (sep >> 32) as u32;
    let div = (1u64 << h.step) as f64;
    Some(Area {
        lat: Range {
            min: LAT_RANGE.min + (ilato as f64 / div) * lat_scale,
            max: LAT_RANGE.min + ((ilato as f64 + 1.0) / div) * lat_scale,
        },
        lon: Range {
            min: LON_RANGE.min + (ilono as f64 / div) * lon_scale,
            max: LON_RANGE.min + ((ilono as f64 + 1.0) / div) * lon_scale,
        },
    })
}

/// x86-64's `cvttsd2si`: C's double to long long conversion, with the
/// "integer indefinite" value for NaN and out-of-range inputs.
fn cvtt(x: f64) -> i64 {
    const TWO63: f64 = 9223372036854775808.0;
    if (-TWO63..TWO63).contains(&x) {
        x as i64
    } else {
        i64::MIN
    }
}

/// C's `(uint64_t)x` as compiled for x86-64 (out-of-range scores decode
/// where Redis decodes them).
fn c_to_u64(x: f64) -> u64 {
    const TWO63: f64 = 9223372036854775808.0;
    if x < TWO63 {
        cvtt(x) as u64
    } else {
        (cvtt(x - TWO63) as u64) ^ (1 << 63)
    }
}

/// Decodes a sorted-set score into (longitude, latitude).
fn decode_score(score: f64) -> Option<[f64; 2]> {
    let area = decode(Bits {
        bits: c_to_u64(score),
        step: STEP_MAX,
    })?;
    let lon = ((area.lon.min + area.lon.max) / 2.0).clamp(LONG_MIN, LONG_MAX);
    let lat = ((area.lat.min + area.lat.max) / 2.0).clamp(LAT_MIN, LAT_MAX);
    Some([lon, lat])
}

/// The 52-bit score of a geohash.
fn align52(h: Bits) -> u64 {
    h.bits << (52 - h.step as u32 * 2)
}

fn move_x(h: &mut Bits, d: i8) {
    if d == 0 {
        return;
    }
    let mut x = h.bits & 0xaaaaaaaaaaaaaaaa;
    let y = h.bits & 0x5555555555555555;
    let zz = 0x5555555555555555u64 >> (64 - h.step as u32 * 2);
    if d > 0 {
        x = x.wrapping_add(zz + 1);
    } else {
        x |= zz;
        x = x.wrapping_sub(zz + 1);
    }
    x &= 0xaaaaaaaaaaaaaaaau64 >> (64 - h.step as u32 * 2);
    h.bits = x | y;
}

fn move_y(h: &mut Bits, d: i8) {
    if d == 0 {
        return;
    }
    let x = h.bits & 0xaaaaaaaaaaaaaaaa;
    let mut y = h.bits & 0x5555555555555555;
    let zz = 0xaaaaaaaaaaaaaaaau64 >> (64 - h.step as u32 * 2);
    if d > 0 {
        y = y.wrapping_add(zz + 1);
    } else {
        y |= zz;
        y = y.wrapping_sub(zz + 1);
    }
    y &= 0x5555555555555555u64 >> (64 - h.step as u32 * 2);
    h.bits = x | y;
}

fn moved(h: Bits, dx: i8, dy: i8) -> Bits {
    let mut n = h;
    move_x(&mut n, dx);
    move_y(&mut n, dy);
    n
}

/// Neighbours in Redis's search order after the centre: north, south,
/// east, west, north-east, north-west, south-east, south-west.
const N: usize = 0;
const S: usize = 1;
const E: usize = 2;
const W: usize = 3;
const NE: usize = 4;
const NW: usize = 5;
const SE: usize = 6;
const SW: usize = 7;

fn neighbors(h: Bits) -> [Bits; 8] {
    [
        moved(h, 0, 1),
        moved(h, 0, -1),
        moved(h, 1, 0),
        moved(h, -1, 0),
        moved(h, 1, 1),
        moved(h, -1, 1),
        moved(h, 1, -1),
        moved(h, -1, -1),
    ]
}

fn estimate_steps(range_meters: f64, lat: f64) -> u8 {
    if range_meters == 0.0 {
        return 26;
    }
    let mut range = range_meters;
    let mut step: i32 = 1;
    while range < MERCATOR_MAX {
        range *= 2.0;
        step += 1;
    }
    step -= 2;
    if !(-66.0..=66.0).contains(&lat) {
        step -= 1;
        if !(-80.0..=80.0).contains(&lat) {
            step -= 1;
        }
    }
    step.clamp(1, 26) as u8
}

/// A search shape (Redis's `GeoShape`).
#[derive(Clone, Copy, Debug)]
enum Kind {
    Radius(f64),
    Box { width: f64, height: f64 },
}

#[derive(Clone, Copy, Debug)]
struct Shape {
    xy: [f64; 2],
    conversion: f64,
    kind: Kind,
}

impl Shape {
    /// `geohashBoundingBox`: [min lon, min lat, max lon, max lat].
    fn bounds(&self) -> [f64; 4] {
        let [lon, lat] = self.xy;
        let (h, w) = match self.kind {
            Kind::Radius(r) => (r, r),
            Kind::Box { width, height } => (height / 2.0, width / 2.0),
        };
        let height = self.conversion * h;
        let width = self.conversion * w;
        let lat_delta = rad_deg(height / EARTH_RADIUS);
        let long_delta_top = rad_deg(width / EARTH_RADIUS / deg_rad(lat + lat_delta).cos());
        let long_delta_bottom = rad_deg(width / EARTH_RADIUS / deg_rad(lat - lat_delta).cos());
        let south = lat < 0.0;
        [
            if south {
                lon - long_delta_bottom
            } else {
                lon - long_delta_top
            },
            lat - lat_delta,
            if south {
                lon + long_delta_bottom
            } else {
                lon + long_delta_top
            },
            lat + lat_delta,
        ]
    }

    /// `geohashCalculateAreasByShapeWGS84`: the nine boxes to scan, centre
    /// first; useless ones are zero.
    fn areas(&self) -> [Bits; 9] {
        let [min_lon, min_lat, max_lon, max_lat] = self.bounds();
        let [lon, lat] = self.xy;
        let radius_meters = match self.kind {
            Kind::Radius(r) => r,
            Kind::Box { width, height } => {
                ((width / 2.0) * (width / 2.0) + (height / 2.0) * (height / 2.0)).sqrt()
            }
        } * self.conversion;
        let mut steps = estimate_steps(radius_meters, lat);
        let mut hash = encode_wgs84(lon, lat, steps).unwrap_or_default();
        let mut nb = neighbors(hash);
        let mut area = decode(hash).unwrap_or_default();
        let dec = |b: Bits| decode(b).unwrap_or_default();
        let decrease = dec(nb[N]).lat.max < max_lat
            || dec(nb[S]).lat.min > min_lat
            || dec(nb[E]).lon.max < max_lon
            || dec(nb[W]).lon.min > min_lon;
        if steps > 1 && decrease {
            steps -= 1;
            hash = encode_wgs84(lon, lat, steps).unwrap_or_default();
            nb = neighbors(hash);
            area = decode(hash).unwrap_or_default();
        }
        if steps >= 2 {
            let zero = Bits::default();
            if area.lat.min < min_lat {
                nb[S] = zero;
                nb[SW] = zero;
                nb[SE] = zero;
            }
            if area.lat.max > max_lat {
                nb[N] = zero;
                nb[NE] = zero;
                nb[NW] = zero;
            }
            if area.lon.min < min_lon {
                nb[W] = zero;
                nb[SW] = zero;
                nb[NW] = zero;
            }
            if area.lon.max > max_lon {
                nb[E] = zero;
                nb[SE] = zero;
                nb[NE] = zero;
            }
        }
        [
            hash, nb[N], nb[S], nb[E], nb[W], nb[NE], nb[NW], nb[SE], nb[SW],
        ]
    }

    /// `geoWithinShape`: the distance from the centre if (lon, lat) is in.
    fn within(&self, lon: f64, lat: f64) -> Option<f64> {
        let [cx, cy] = self.xy;
        match self.kind {
            Kind::Radius(r) => {
                let d = distance(cx, cy, lon, lat);
                (d <= r * self.conversion).then_some(d)
            }
            Kind::Box { width, height } => {
                let (w, h) = (width * self.conversion, height * self.conversion);
                if lat_distance(lat, cy) > h / 2.0 {
                    return None;
                }
                if distance(lon, lat, cx, lat) > w / 2.0 {
                    return None;
                }
                Some(distance(cx, cy, lon, lat))
            }
        }
    }
}

fn lat_distance(lat1: f64, lat2: f64) -> f64 {
    EARTH_RADIUS * (deg_rad(lat2) - deg_rad(lat1)).abs()
}

/// Redis's haversine distance in meters (`geohashGetDistance`).
fn distance(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    let lon1r = deg_rad(lon1);
    let lon2r = deg_rad(lon2);
    let v = ((lon2r - lon1r) / 2.0).sin();
    if v == 0.0 {
        return lat_distance(lat1, lat2);
    }
    let lat1r = deg_rad(lat1);
    let lat2r = deg_rad(lat2);
    let u = ((lat2r - lat1r) / 2.0).sin();
    let a = u * u + lat1r.cos() * lat2r.cos() * v * v;
    2.0 * EARTH_RADIUS * a.sqrt().asin()
}

/// The standard 11-character geohash of a score, as GEOHASH computes it.
fn geohash_string(score: f64) -> Option<String> {
    const ALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";
    let [lon, lat] = decode_score(score)?;
    let h = encode(
        Range {
            min: -180.0,
            max: 180.0,
        },
        Range {
            min: -90.0,
            max: 90.0,
        },
        lon,
        lat,
        26,
    )
    .unwrap_or(Bits { bits: 0, step: 26 });
    let mut s = String::with_capacity(11);
    for i in 0..11 {
        let idx = if i == 10 {
            0
        } else {
            ((h.bits >> (52 - (i + 1) * 5)) & 0x1f) as usize
        };
        s.push(ALPHABET[idx] as char);
    }
    Some(s)
}

// ---------------------------------------------------------------- formats

/// `addReplyDoubleDistance`: fixed point with four decimals (`llrint`).
fn fmt_distance(d: f64) -> String {
    if d == 0.0 {
        return "0.0000".to_string();
    }
    let v = (d * 10000.0).round_ties_even();
    // `as` saturates like llrint's out-of-range results; NaN is LLONG_MIN.
    let v = if v.is_nan() { i64::MIN } else { v as i64 };
    let neg = v < 0;
    let a = v.unsigned_abs();
    format!(
        "{}{}.{:04}",
        if neg { "-" } else { "" },
        a / 10000,
        a % 10000
    )
}

/// Redis's human long double text (`%.17Lf` without trailing zeros).
fn fmt_human(d: f64) -> String {
    if d.is_infinite() {
        return if d > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let mut s = format!("{d:.17}");
    if s.contains('.') {
        while s.ends_with('0') {
            s.pop();
        }
        if s.ends_with('.') {
            s.pop();
        }
    }
    if s == "-0" {
        s = "0".into();
    }
    s
}

/// `addReplyHumanLongDouble`: a bulk string in RESP2, a double in RESP3.
fn human_reply(ctx: &Ctx<'_>, d: f64) -> Reply {
    let s = fmt_human(d);
    if ctx.resp() > 2 {
        Reply::Raw(Bytes::from(format!(",{s}\r\n")))
    } else {
        Reply::Bulk(Bytes::from(s))
    }
}

fn coords_reply(ctx: &Ctx<'_>, xy: [f64; 2]) -> Reply {
    Reply::Array(vec![human_reply(ctx, xy[0]), human_reply(ctx, xy[1])])
}

// ---------------------------------------------------------------- parsing

/// `getDoubleFromObjectOrReply` with an optional custom message.
fn double_arg(b: &[u8], msg: Option<&'static str>) -> Result<f64, Reply> {
    score_arg(b).ok_or_else(|| match msg {
        Some(m) => Reply::err_static(m),
        None => errors::not_float(),
    })
}

/// `extractLongLatOrReply`.
fn lonlat_arg(lon: &[u8], lat: &[u8]) -> Result<[f64; 2], Reply> {
    let x = double_arg(lon, None)?;
    let y = double_arg(lat, None)?;
    if !(LONG_MIN..=LONG_MAX).contains(&x) || !(LAT_MIN..=LAT_MAX).contains(&y) {
        return Err(Reply::err(format!(
            "ERR invalid longitude,latitude pair {x:.6},{y:.6}"
        )));
    }
    Ok([x, y])
}

/// `extractUnitOrReply`: meters per unit.
fn unit_arg(u: &[u8]) -> Result<f64, Reply> {
    if eq_ic(u, "m") {
        Ok(1.0)
    } else if eq_ic(u, "km") {
        Ok(1000.0)
    } else if eq_ic(u, "ft") {
        Ok(0.3048)
    } else if eq_ic(u, "mi") {
        Ok(1609.34)
    } else {
        Err(Reply::err_static(
            "ERR unsupported unit provided. please use M, KM, FT, MI",
        ))
    }
}

/// `extractDistanceOrReply`: (radius, conversion).
fn radius_arg(r: &[u8], unit: &[u8]) -> Result<(f64, f64), Reply> {
    let d = double_arg(r, Some("ERR need numeric radius"))?;
    if d < 0.0 {
        return Err(Reply::err_static("ERR radius cannot be negative"));
    }
    Ok((d, unit_arg(unit)?))
}

/// `extractBoxOrReply`: (width, height, conversion).
fn box_arg(w: &[u8], h: &[u8], unit: &[u8]) -> Result<(f64, f64, f64), Reply> {
    let w = double_arg(w, Some("ERR need numeric width"))?;
    let h = double_arg(h, Some("ERR need numeric height"))?;
    if h < 0.0 || w < 0.0 {
        return Err(Reply::err_static("ERR height or width cannot be negative"));
    }
    Ok((w, h, unit_arg(unit)?))
}

/// The sorted set at `key` without touching statistics (for lookups after
/// the command's one counted read).
fn peek<'c>(ctx: &'c mut Ctx<'_>, key: &[u8]) -> Option<&'c ZSet> {
    let now = ctx.now();
    match ctx.db().get(key, now) {
        Some(Entry {
            val: Value::ZSet(z),
            ..
        }) => Some(z),
        _ => None,
    }
}

// ---------------------------------------------------------------- commands

fn geoadd(ctx: &mut Ctx<'_>, args: &[Bytes]) -> R {
    let (mut nx, mut xx) = (false, false);
    let mut longidx = 2;
    while longidx < args.len() {
        let o = &args[longidx];
        if eq_ic(o, "nx") {
            nx = true;
        } else if eq_ic(o, "xx") {
            xx = true;
        } else if !eq_ic(o, "ch") {
            break;
        }
        longidx += 1;
    }
    if !(args.len() - longidx).is_multiple_of(3) || (xx && nx) {
        return Err(errors::syntax());
    }
    let elements = (args.len() - longidx) / 3;
    let mut zargs: Vec<Bytes> = Vec::with_capacity(longidx + elements * 2);
    zargs.push(Bytes::from_static(b"zadd"));
    zargs.extend(args[1..longidx].iter().cloned());
    for i in 0..elements {
        let at = longidx + i * 3;
        let xy = lonlat_arg(&args[at], &args[at + 1])?;
        let bits = encode_wgs84(xy[0], xy[1], STEP_MAX).map_or(0, align52);
        zargs.push(Bytes::from(bits.to_string()));
        zargs.push(args[at + 2].clone());
    }
    // Redis runs (and so propagates) GEOADD as the ZADD it builds.
    if ctx.propagating() {
        ctx.rewrite_propagation(zargs.clone());
    }
    zadd(ctx, &zargs, false)
}

fn geodist(ctx: &mut Ctx<'_>, args: &[Bytes]) -> R {
    let mut to_meter = 1.0;
    if args.len() == 5 {
        to_meter = unit_arg(&args[4])?;
    } else if args.len() > 5 {
        return Err(errors::syntax());
    }
    let Some(z) = get_zset(ctx, &args[1])? else {
        return Ok(Reply::Null);
    };
    let (Some(s1), Some(s2)) = (z.score(&args[2]), z.score(&args[3])) else {
        return Ok(Reply::Null);
    };
    match (decode_score(s1), decode_score(s2)) {
        (Some(a), Some(b)) => Ok(Reply::Bulk(Bytes::from(fmt_distance(
            distance(a[0], a[1], b[0], b[1]) / to_meter,
        )))),
        _ => Ok(Reply::Null),
    }
}

fn geohash(ctx: &mut Ctx<'_>, args: &[Bytes]) -> R {
    let z = get_zset(ctx, &args[1])?;
    let out = args[2..]
        .iter()
        .map(|m| {
            z.as_ref()
                .and_then(|z| z.score(m))
                .and_then(geohash_string)
                .map_or(Reply::Null, |s| Reply::Bulk(Bytes::from(s)))
        })
        .collect();
    Ok(Reply::Array(out))
}

fn geopos(ctx: &mut Ctx<'_>, args: &[Bytes]) -> R {
    let pos: Vec<Option<[f64; 2]>> = {
        let z = get_zset(ctx, &args[1])?;
        args[2..]
            .iter()
            .map(|m| z.as_ref().and_then(|z| z.score(m)).and_then(decode_score))
            .collect()
    };
    Ok(Reply::Array(
        pos.into_iter()
            .map(|p| p.map_or(Reply::NullArray, |xy| coords_reply(ctx, xy)))
            .collect(),
    ))
}

const RADIUS_COORDS: u32 = 1 << 0;
const RADIUS_MEMBER: u32 = 1 << 1;
const RADIUS_NOSTORE: u32 = 1 << 2;
const GEOSEARCH: u32 = 1 << 3;
const GEOSEARCHSTORE: u32 = 1 << 4;

#[derive(Clone, Copy, PartialEq)]
enum Order {
    None,
    Asc,
    Desc,
}

/// A point found by a search.
struct Point {
    xy: [f64; 2],
    dist: f64,
    score: f64,
    member: Vec<u8>,
}

/// Appends the members of `z` in the score range [min, max) that are
/// inside `shape` (`geoGetPointsInRange`); stops at `limit` (0: none).
fn points_in_range(
    z: &ZSet,
    min: f64,
    max: f64,
    shape: &Shape,
    out: &mut Vec<Point>,
    limit: usize,
) {
    let start = z.partition_point(|s, _| s < min);
    z.for_range(start, z.len(), |m, s| {
        if s >= max {
            return false;
        }
        if let Some(xy) = decode_score(s) {
            if let Some(dist) = shape.within(xy[0], xy[1]) {
                out.push(Point {
                    xy,
                    dist,
                    score: s,
                    member: m.to_vec(),
                });
            }
        }
        !(limit > 0 && out.len() >= limit)
    });
}

/// `membersOfAllNeighbors`.
fn search_points(z: &ZSet, shape: &Shape, limit: usize) -> Vec<Point> {
    let boxes = shape.areas();
    let mut out = Vec::new();
    let mut last: Option<usize> = None;
    for (i, b) in boxes.iter().enumerate() {
        if b.is_zero() {
            continue;
        }
        if let Some(l) = last {
            if boxes[l] == *b {
                continue;
            }
        }
        if limit > 0 && out.len() >= limit {
            break;
        }
        let min = align52(*b);
        let max = align52(Bits {
            bits: b.bits.wrapping_add(1),
            step: b.step,
        });
        points_in_range(z, min as f64, max as f64, shape, &mut out, limit);
        last = Some(i);
    }
    out
}

/// GEORADIUS, GEORADIUSBYMEMBER (and their _RO forms), GEOSEARCH and
/// GEOSEARCHSTORE (Redis's `georadiusGeneric`).
fn search(ctx: &mut Ctx<'_>, args: &[Bytes], src_idx: usize, flags: u32) -> R {
    let src = args[src_idx].clone();
    let exists = get_zset(ctx, &src)?.is_some();
    let mut storekey: Option<Bytes> = None;
    let mut storedist = false;
    let mut xy = [0.0, 0.0];
    let mut kind = Kind::Radius(0.0);
    let mut conversion = 0.0;
    let base;
    if flags & RADIUS_COORDS != 0 {
        base = 6;
        xy = lonlat_arg(&args[2], &args[3])?;
        let (r, c) = radius_arg(&args[4], &args[5])?;
        kind = Kind::Radius(r);
        conversion = c;
    } else if flags & RADIUS_MEMBER != 0 && !exists {
        base = 5;
    } else if flags & RADIUS_MEMBER != 0 {
        base = 5;
        let score = peek(ctx, &src).and_then(|z| z.score(&args[2]));
        xy = score
            .and_then(decode_score)
            .ok_or_else(|| Reply::err_static("ERR could not decode requested zset member"))?;
        let (r, c) = radius_arg(&args[3], &args[4])?;
        kind = Kind::Radius(r);
        conversion = c;
    } else if flags & GEOSEARCH != 0 {
        base = if flags & GEOSEARCHSTORE != 0 {
            storekey = Some(args[1].clone());
            3
        } else {
            2
        };
    } else {
        return Err(Reply::err_static("ERR Unknown georadius search type"));
    }

    let (mut withdist, mut withhash, mut withcoords) = (false, false, false);
    let (mut frommember, mut fromloc, mut byradius, mut bybox) = (false, false, false, false);
    let mut sort = Order::None;
    let mut any = false;
    let mut count: i64 = 0;
    let remaining = args.len().saturating_sub(base);
    let mut i = 0;
    let can_store = flags & RADIUS_NOSTORE == 0 && flags & GEOSEARCH == 0;
    let geosearch = flags & GEOSEARCH != 0;
    while i < remaining {
        let a = &args[base + i];
        let arg = |k: usize| &args[base + i + k];
        if eq_ic(a, "withdist") {
            withdist = true;
        } else if eq_ic(a, "withhash") {
            withhash = true;
        } else if eq_ic(a, "withcoord") {
            withcoords = true;
        } else if eq_ic(a, "any") {
            any = true;
        } else if eq_ic(a, "asc") {
            sort = Order::Asc;
        } else if eq_ic(a, "desc") {
            sort = Order::Desc;
        } else if eq_ic(a, "count") && i + 1 < remaining {
            count = parse_i64(arg(1)).ok_or_else(errors::not_int)?;
            if count <= 0 {
                return Err(Reply::err_static("ERR COUNT must be > 0"));
            }
            i += 1;
        } else if eq_ic(a, "store") && i + 1 < remaining && can_store {
            storekey = Some(arg(1).clone());
            storedist = false;
            i += 1;
        } else if eq_ic(a, "storedist") && i + 1 < remaining && can_store {
            storekey = Some(arg(1).clone());
            storedist = true;
            i += 1;
        } else if eq_ic(a, "storedist") && geosearch && flags & GEOSEARCHSTORE != 0 {
            storedist = true;
        } else if eq_ic(a, "frommember") && i + 1 < remaining && geosearch && !fromloc {
            if exists {
                let score = peek(ctx, &src).and_then(|z| z.score(arg(1)));
                xy = score.and_then(decode_score).ok_or_else(|| {
                    Reply::err_static("ERR could not decode requested zset member")
                })?;
            }
            frommember = true;
            i += 1;
        } else if eq_ic(a, "fromlonlat") && i + 2 < remaining && geosearch && !frommember {
            xy = lonlat_arg(arg(1), arg(2))?;
            fromloc = true;
            i += 2;
        } else if eq_ic(a, "byradius") && i + 2 < remaining && geosearch && !bybox {
            let (r, c) = radius_arg(arg(1), arg(2))?;
            kind = Kind::Radius(r);
            conversion = c;
            byradius = true;
            i += 2;
        } else if eq_ic(a, "bybox") && i + 3 < remaining && geosearch && !byradius {
            let (w, h, c) = box_arg(arg(1), arg(2), arg(3))?;
            kind = Kind::Box {
                width: w,
                height: h,
            };
            conversion = c;
            bybox = true;
            i += 3;
        } else {
            return Err(errors::syntax());
        }
        i += 1;
    }

    if storekey.is_some() && (withdist || withhash || withcoords) {
        return Err(Reply::err(format!(
            "ERR {} is not compatible with WITHDIST, WITHHASH and WITHCOORD options",
            if flags & GEOSEARCHSTORE != 0 {
                "GEOSEARCHSTORE"
            } else {
                "STORE option in GEORADIUS"
            }
        )));
    }
    let name = String::from_utf8_lossy(&args[0]);
    if geosearch && !(frommember || fromloc) {
        return Err(Reply::err(format!(
            "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for {name}"
        )));
    }
    if geosearch && !(byradius || bybox) {
        return Err(Reply::err(format!(
            "ERR exactly one of BYRADIUS and BYBOX can be specified for {name}"
        )));
    }
    if any && count == 0 {
        return Err(Reply::err_static(
            "ERR the ANY argument requires COUNT argument",
        ));
    }

    if !exists {
        return Ok(match storekey {
            Some(dst) => {
                if ctx.delete(&dst) {
                    ctx.modified(&dst, notify::GENERIC, "del");
                }
                Reply::Int(0)
            }
            None => Reply::Array(Vec::new()),
        });
    }
    if count != 0 && sort == Order::None && !any {
        sort = Order::Asc;
    }
    let shape = Shape {
        xy,
        conversion,
        kind,
    };
    let limit = if any {
        usize::try_from(count).unwrap_or(usize::MAX)
    } else {
        0
    };
    let mut points = match peek(ctx, &src) {
        Some(z) => search_points(z, &shape, limit),
        None => Vec::new(),
    };
    if points.is_empty() && storekey.is_none() {
        return Ok(Reply::Array(Vec::new()));
    }
    let returned = if count == 0 {
        points.len()
    } else {
        points
            .len()
            .min(usize::try_from(count).unwrap_or(usize::MAX))
    };
    match sort {
        Order::Asc => points.sort_by(|a, b| a.dist.total_cmp(&b.dist)),
        Order::Desc => points.sort_by(|a, b| b.dist.total_cmp(&a.dist)),
        Order::None => {}
    }
    points.truncate(returned);
    for p in &mut points {
        p.dist /= shape.conversion;
    }

    let Some(dst) = storekey else {
        let options = withdist as usize + withhash as usize + withcoords as usize;
        let mut out = Vec::with_capacity(points.len());
        for p in points {
            let m = Reply::Bulk(Bytes::from(p.member));
            if options == 0 {
                out.push(m);
                continue;
            }
            let mut item = Vec::with_capacity(options + 1);
            item.push(m);
            if withdist {
                item.push(Reply::Bulk(Bytes::from(fmt_distance(p.dist))));
            }
            if withhash {
                item.push(Reply::Int(cvtt(p.score)));
            }
            if withcoords {
                item.push(coords_reply(ctx, p.xy));
            }
            out.push(Reply::Array(item));
        }
        return Ok(Reply::Array(out));
    };
    let n = points.len();
    if n > 0 {
        let mut items: Vec<(Vec<u8>, f64)> = points
            .into_iter()
            .map(|p| {
                let s = if storedist { p.dist } else { p.score };
                (p.member, s)
            })
            .collect();
        items.sort_by(|a, b| crate::types::zset::cmp_entry(a.1, &a.0, b.1, &b.0));
        let z = build_zset(ctx, &items);
        ctx.set_value(&dst, Value::ZSet(Box::new(z)), false);
        ctx.modified(
            &dst,
            notify::ZSET,
            if geosearch {
                "geosearchstore"
            } else {
                "georadiusstore"
            },
        );
    } else if ctx.delete(&dst) {
        ctx.modified(&dst, notify::GENERIC, "del");
    }
    Ok(Reply::Int(n as i64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::TestEngine;

    #[test]
    fn geohash_and_scores_match_redis() {
        let b = encode_wgs84(-73.9454966, 40.747533, STEP_MAX).map(align52);
        assert_eq!(b, Some(1791875804419201));
        assert_eq!(
            geohash_string(3378080408407459.0).as_deref(),
            Some("s02equ04ve0")
        );
        let mut t = TestEngine::new();
        t.cmd(&["GEOADD", "points", "-5.6", "42.6", "test"]);
        assert_eq!(
            t.raw(&["GEOHASH", "points", "test", "nx"]),
            "*2\r\n$11\r\nezs42e44yx0\r\n$-1\r\n"
        );
    }

    #[test]
    fn out_of_range_scores_decode_like_redis() {
        let mut t = TestEngine::new();
        t.cmd(&["ZADD", "k", "-5", "neg", "1e20", "huge"]);
        assert_eq!(
            t.raw(&["GEOHASH", "k", "neg", "huge"]),
            "*2\r\n$11\r\nbp05b5048p0\r\n$11\r\n00bh0hbj200\r\n"
        );
    }

    #[test]
    #[allow(clippy::excessive_precision)]
    fn formats() {
        assert_eq!(fmt_distance(0.0), "0.0000");
        assert_eq!(fmt_distance(0.77504), "0.7750");
        assert_eq!(fmt_distance(166274.15156960033), "166274.1516");
        assert_eq!(fmt_human(0.99999994039535522), "0.99999994039535522");
        assert_eq!(fmt_human(2.0), "2");
        assert_eq!(fmt_human(-0.0), "0");
    }

    #[test]
    fn geoadd_and_positions() {
        let mut t = TestEngine::new();
        assert_eq!(t.raw(&["GEOADD", "k", "1", "2", "m"]), ":1\r\n");
        assert_eq!(t.raw(&["GEOADD", "k", "1", "2", "m"]), ":0\r\n");
        assert_eq!(t.raw(&["GEOADD", "k", "CH", "1", "3", "m"]), ":1\r\n");
        assert_eq!(
            t.raw(&["GEOADD", "k", "xx", "nx", "1", "3", "m"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(
            t.raw(&["GEOADD", "k", "200", "10", "m"]),
            "-ERR invalid longitude,latitude pair 200.000000,10.000000\r\n"
        );
        assert_eq!(
            t.raw(&["GEOADD", "k", "x", "10", "m"]),
            "-ERR value is not a valid float\r\n"
        );
        t.cmd(&["GEOADD", "k", "1", "2", "m"]);
        assert_eq!(
            t.raw(&["GEOPOS", "k", "m", "nx"]),
            "*2\r\n*2\r\n$19\r\n0.99999994039535522\r\n$18\r\n2.0000001856465488\r\n*-1\r\n"
        );
        assert_eq!(t.raw(&["GEODIST", "k", "m", "m"]), "$6\r\n0.0000\r\n");
        assert_eq!(t.raw(&["GEODIST", "nokey", "m", "m"]), "$-1\r\n");
        assert_eq!(
            t.raw(&["GEODIST", "k", "m", "m", "x"]),
            "-ERR unsupported unit provided. please use M, KM, FT, MI\r\n"
        );
    }

    #[test]
    fn searches() {
        let mut t = TestEngine::new();
        t.cmd(&[
            "GEOADD",
            "nyc",
            "-73.9454966",
            "40.747533",
            "lic market",
            "-73.9733487",
            "40.7648057",
            "central park n/q/r",
            "-73.9903085",
            "40.7362513",
            "union square",
            "-74.0131604",
            "40.7126674",
            "wtc one",
            "-73.7858139",
            "40.6428986",
            "jfk",
            "-73.9375699",
            "40.7498929",
            "q4",
            "-73.9564142",
            "40.7480973",
            "4545",
        ]);
        assert_eq!(
            t.raw(&["GEORADIUS", "nyc", "-73.9798091", "40.7598464", "3", "km", "withdist", "asc"]),
            "*3\r\n*2\r\n$18\r\ncentral park n/q/r\r\n$6\r\n0.7750\r\n*2\r\n$4\r\n4545\r\n$6\r\n2.3651\r\n*2\r\n$12\r\nunion square\r\n$6\r\n2.7697\r\n"
        );
        assert_eq!(
            t.raw(&[
                "GEORADIUS",
                "nyc",
                "-73.9798091",
                "40.7598464",
                "10",
                "km",
                "COUNT",
                "3",
                "ANY"
            ]),
            "*3\r\n$7\r\nwtc one\r\n$12\r\nunion square\r\n$18\r\ncentral park n/q/r\r\n"
        );
        assert_eq!(
            t.raw(&["GEOSEARCH", "nyc", "fromlonlat", "-73.9798091", "40.7598464", "bybox", "6", "6", "km", "asc"]),
            "*4\r\n$18\r\ncentral park n/q/r\r\n$4\r\n4545\r\n$12\r\nunion square\r\n$10\r\nlic market\r\n"
        );
        assert_eq!(
            t.raw(&["GEOSEARCH", "nyc", "bybox", "3", "3", "km", "asc"]),
            "-ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for GEOSEARCH\r\n"
        );
        assert_eq!(
            t.raw(&[
                "GEOSEARCHSTORE",
                "d",
                "nyc",
                "frommember",
                "wtc one",
                "byradius",
                "7",
                "km",
                "storedist"
            ]),
            ":5\r\n"
        );
        assert_eq!(
            t.raw(&["ZRANGE", "d", "0", "0", "WITHSCORES"]),
            "*2\r\n$7\r\nwtc one\r\n$1\r\n0\r\n"
        );
        assert_eq!(
            t.raw(&["GEORADIUS", "nokey", "0", "0", "1", "km", "store", "d"]),
            ":0\r\n"
        );
        assert_eq!(t.raw(&["EXISTS", "d"]), ":0\r\n");
        assert_eq!(
            t.raw(&["GEORADIUSBYMEMBER", "nyc", "nosuch", "1", "km"]),
            "-ERR could not decode requested zset member\r\n"
        );
        assert_eq!(
            t.raw(&[
                "COMMAND",
                "GETKEYS",
                "GEORADIUS",
                "a",
                "0",
                "0",
                "1",
                "km",
                "store",
                "b",
                "storedist",
                "c"
            ]),
            "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"
        );
    }
}
