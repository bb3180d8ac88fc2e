//! `GET /api/v1/message/{ID}/part/{PartID}/thumb`: Mailpit's 180x120 JPEG
//! of an attachment (its `server/apiv1/thumbnails.go`). An image at least
//! 180x120 is scaled to cover the frame and cropped in the centre; a
//! smaller one is scaled down to fit (never up) and centred; both on
//! white, so transparent pixels are white. A part that is not an image,
//! or that does not decode, or that declares more than 20 megapixels, gets
//! a blank white thumbnail.

use std::io::Cursor;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::IntoResponse;
use image::imageops::FilterType;
use image::{DynamicImage, ImageDecoder, ImageReader, Limits, Rgb, RgbImage};

use super::api::find_part;
use super::request::ApiResult;
use super::Shared;

const WIDTH: u32 = 180;
const HEIGHT: u32 = 120;
/// Mailpit's JPEG quality.
const QUALITY: u8 = 70;
/// Mailpit's bound on the pixels an image may declare before it is
/// decoded: a small compressed file can declare a huge raster.
const MAX_PIXELS: u64 = 20_000_000;

pub(crate) async fn thumbnail(
    State(shared): State<Arc<Shared>>,
    Path((id, part_id)): Path<(String, String)>,
) -> ApiResult {
    let part = find_part(&shared, &id, &part_id)?;
    let content_type = part.summary.content_type.clone();
    let content = part.content;
    // Decoding and scaling take milliseconds of CPU: off the I/O threads.
    let jpeg = tokio::task::spawn_blocking(move || thumbnail_jpeg(&content_type, &content))
        .await
        .unwrap_or_else(|_| blank_jpeg());
    let name = &part.summary.file_name;
    let disposition =
        HeaderValue::from_str(&format!("filename=\"{name}\"")).unwrap_or(HeaderValue::from_static("inline"));
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("image/jpeg")),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        jpeg,
    )
        .into_response())
}

/// The thumbnail of a part of `content_type`, as JPEG bytes.
pub(crate) fn thumbnail_jpeg(content_type: &str, content: &[u8]) -> Vec<u8> {
    if !content_type.starts_with("image/") {
        return blank_jpeg();
    }
    decode(content)
        .map(|image| encode(&framed(&image)))
        .unwrap_or_else(blank_jpeg)
}

/// The image in `content`, turned as its EXIF orientation says, or `None`
/// when it is no image this build decodes or is over [`MAX_PIXELS`].
fn decode(content: &[u8]) -> Option<DynamicImage> {
    let mut reader = ImageReader::new(Cursor::new(content))
        .with_guessed_format()
        .ok()?;
    let mut limits = Limits::default();
    // The RGBA raster of MAX_PIXELS, plus the decoders' own buffers.
    limits.max_alloc = Some(MAX_PIXELS * 4 + (16 << 20));
    reader.limits(limits);
    let mut decoder = reader.into_decoder().ok()?;
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return None;
    }
    let orientation = decoder.orientation().ok();
    let mut image = DynamicImage::from_decoder(decoder).ok()?;
    if let Some(orientation) = orientation {
        image.apply_orientation(orientation);
    }
    Some(image)
}

/// Mailpit's frame: `Fill` (cover, centre crop) when the image is at least
/// the frame's size both ways, else `Fit` (scaled down only), then laid
/// over white in the centre.
fn framed(image: &DynamicImage) -> RgbImage {
    let scaled = if image.width() < WIDTH || image.height() < HEIGHT {
        if image.width() <= WIDTH && image.height() <= HEIGHT {
            image.clone()
        } else {
            image.resize(WIDTH, HEIGHT, FilterType::Lanczos3)
        }
    } else {
        image.resize_to_fill(WIDTH, HEIGHT, FilterType::Lanczos3)
    };
    let scaled = scaled.to_rgba8();
    let mut frame = RgbImage::from_pixel(WIDTH, HEIGHT, Rgb([255, 255, 255]));
    let left = (WIDTH - scaled.width().min(WIDTH)) / 2;
    let top = (HEIGHT - scaled.height().min(HEIGHT)) / 2;
    for (x, y, pixel) in scaled.enumerate_pixels() {
        let [red, green, blue, alpha] = pixel.0;
        let over_white = |channel: u8| {
            let alpha = u32::from(alpha);
            ((u32::from(channel) * alpha + 255 * (255 - alpha) + 127) / 255) as u8
        };
        if let Some(out) = frame.get_pixel_mut_checked(left + x, top + y) {
            *out = Rgb([over_white(red), over_white(green), over_white(blue)]);
        }
    }
    frame
}

fn encode(frame: &RgbImage) -> Vec<u8> {
    let mut jpeg = Vec::new();
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, QUALITY);
    match frame.write_with_encoder(encoder) {
        Ok(()) => jpeg,
        // An RGB raster of a fixed size always encodes; should it not, a
        // client still gets an image.
        Err(_) => Vec::new(),
    }
}

/// The thumbnail of a part that is not an image: white.
fn blank_jpeg() -> Vec<u8> {
    encode(&RgbImage::from_pixel(WIDTH, HEIGHT, Rgb([255, 255, 255])))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(image: &RgbImage) -> Vec<u8> {
        let mut bytes = Vec::new();
        image
            .write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Png)
            .unwrap();
        bytes
    }

    fn decoded(jpeg: &[u8]) -> RgbImage {
        image::load_from_memory(jpeg).unwrap().to_rgb8()
    }

    #[test]
    fn a_small_image_is_centred_on_white_unscaled() {
        let small = RgbImage::from_pixel(20, 10, Rgb([0, 0, 0]));
        let thumb = decoded(&thumbnail_jpeg("image/png", &png(&small)));
        assert_eq!(thumb.dimensions(), (WIDTH, HEIGHT));
        assert!(
            thumb.get_pixel(90, 60).0.iter().all(|&c| c < 40),
            "the centre is the image"
        );
        assert!(
            thumb.get_pixel(75, 60).0.iter().all(|&c| c > 215),
            "beside it, white"
        );
        assert!(
            thumb.get_pixel(90, 50).0.iter().all(|&c| c > 215),
            "above it, white"
        );
    }

    #[test]
    fn a_wide_image_below_the_height_is_fitted_not_cropped() {
        // 360x60 is scaled to 180x30, with white above and below.
        let wide = RgbImage::from_pixel(360, 60, Rgb([0, 0, 0]));
        let thumb = decoded(&thumbnail_jpeg("image/png", &png(&wide)));
        assert!(thumb.get_pixel(2, 60).0.iter().all(|&c| c < 40), "full width");
        assert!(thumb.get_pixel(90, 20).0.iter().all(|&c| c > 215), "white above");
    }

    #[test]
    fn garbage_and_huge_declared_sizes_are_blank() {
        for content in [
            b"not an image".to_vec(),
            b"GIF89a\xff\xff\xff\xff\x00\x00".to_vec(),
        ] {
            let thumb = decoded(&thumbnail_jpeg("image/gif", &content));
            assert_eq!(thumb.dimensions(), (WIDTH, HEIGHT));
            assert!(thumb.pixels().all(|p| p.0.iter().all(|&c| c > 245)));
        }
    }
}
