//! The parsers under the session and the service, for the fuzz targets
//! (`fuzz/`) only: compiled with the non-default feature `fuzzing`, hidden
//! from the documentation and not part of the API (they may change in any
//! release). The search parser needs the feature `http` as well.

pub use crate::protocol::fuzzing::{
    cram_md5_digest, parse_path, AuthStep, Exchange, Param, ParamError, Params, Path, ProxiedAddresses,
    ProxyHeader, ProxyHeaderError, ProxyParsed, AUTH_LINE_LIMIT, DATA_SIZE_DEFAULT, NULL_PATH, V1_MAX_LENGTH,
    V2_MAX_LENGTH, V2_SIGNATURE,
};
#[cfg(feature = "http")]
pub use crate::service::fuzzing::{search_day, search_matches};
