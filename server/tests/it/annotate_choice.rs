//! Choosing a campaign, progress, instrument help and the minimum listening share.
