//! Which version of each api to speak with a cluster, from its ApiVersions
//! answer, as a real client negotiates.

use std::collections::HashMap;

use kafka_protocol::messages::{ApiKey, ApiVersionsResponse};

use super::ProtocolError;

/// The versions sluice-bench can speak. Produce and Fetch stop at 12: from 13
/// on they name topics by id only, which would add a Metadata dependency to
/// every request for no difference in the bytes a gateway forwards.
pub const SPOKEN: &[(ApiKey, i16, i16)] = &[
    (ApiKey::Produce, 3, 12),
    (ApiKey::Fetch, 4, 12),
    (ApiKey::ListOffsets, 1, 9),
    (ApiKey::Metadata, 1, 12),
    (ApiKey::ApiVersions, 0, 3),
    (ApiKey::CreateTopics, 2, 7),
];

/// The highest ApiVersions version sent first; a broker that does not know
/// it answers in v0 with UNSUPPORTED_VERSION and its own range.
pub const API_VERSIONS_FIRST_TRY: i16 = 3;

#[derive(Debug, Clone, Default)]
pub struct Versions {
    offered: HashMap<i16, (i16, i16)>,
}

impl Versions {
    pub fn from_response(response: &ApiVersionsResponse) -> Versions {
        let offered = response
            .api_keys
            .iter()
            .map(|k| (k.api_key, (k.min_version, k.max_version)))
            .collect();
        Versions { offered }
    }

    /// The highest version both sides speak.
    pub fn pick(&self, api: ApiKey) -> Result<i16, ProtocolError> {
        let (ours_min, ours_max) = SPOKEN
            .iter()
            .find(|(key, _, _)| *key == api)
            .map(|(_, min, max)| (*min, *max))
            .ok_or_else(|| {
                ProtocolError::Unsupported(format!("sluice-bench does not speak {api:?}"))
            })?;
        let (theirs_min, theirs_max) =
            self.offered.get(&(api as i16)).copied().ok_or_else(|| {
                ProtocolError::Unsupported(format!("the target does not offer {api:?}"))
            })?;
        let version = ours_max.min(theirs_max);
        if version < ours_min.max(theirs_min) {
            return Err(ProtocolError::Unsupported(format!(
                "no common {api:?} version: the target offers v{theirs_min}-v{theirs_max}, \
                 sluice-bench speaks v{ours_min}-v{ours_max}"
            )));
        }
        Ok(version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::api_versions_response::ApiVersion;

    fn offering(api: ApiKey, min: i16, max: i16) -> Versions {
        let response = ApiVersionsResponse::default().with_api_keys(vec![ApiVersion::default()
            .with_api_key(api as i16)
            .with_min_version(min)
            .with_max_version(max)]);
        Versions::from_response(&response)
    }

    #[test]
    fn picks_the_highest_common_version() {
        assert_eq!(
            offering(ApiKey::Produce, 3, 13)
                .pick(ApiKey::Produce)
                .unwrap(),
            12
        );
        assert_eq!(
            offering(ApiKey::Produce, 0, 7)
                .pick(ApiKey::Produce)
                .unwrap(),
            7
        );
    }

    #[test]
    fn refuses_disjoint_ranges_and_missing_apis() {
        assert!(offering(ApiKey::Fetch, 13, 18).pick(ApiKey::Fetch).is_err());
        assert!(offering(ApiKey::Fetch, 4, 12)
            .pick(ApiKey::Produce)
            .is_err());
    }
}
