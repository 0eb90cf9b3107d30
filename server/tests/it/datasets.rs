//! Dataset compiling, releases and their archives.
