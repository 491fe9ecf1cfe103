//! binaryornot 0.6.0's decision tree (`binaryornot/tree.py`), its known binary signatures
//! (`data/binary_formats.csv`) and extensions (`data/binary_extensions.csv`), written out in
//! Rust. The upstream files are generated and frozen for that release; this is their port, kept
//! in the tree's own shape (hence the lint allowances) so it can be compared line by line.
#![allow(
    clippy::unreadable_literal,
    clippy::collapsible_else_if,
    clippy::needless_bool,
    clippy::if_same_then_else
)]

/// File extensions (lower case, no dot) binaryornot treats as binary without reading.
pub const BINARY_EXTENSIONS: &[&str] = &[
    "3ds", "7z", "aac", "accdb", "aif", "aiff", "alac", "ape", "arrow", "avi", "avif", "avro",
    "bin", "blend", "bmp", "bz2", "cab", "class", "com", "cr2", "cr3", "dae", "db", "dbf", "dll",
    "dmg", "dng", "doc", "docx", "dwf", "dwg", "dxb", "eot", "epub", "exe", "fbx", "fit", "fits",
    "flac", "flv", "fw", "gba", "gif", "glb", "gz", "hdf5", "heic", "heif", "ico", "img", "iso",
    "jar", "jfif", "jp2", "jpeg", "jpg", "jxl", "lz", "lz4", "lzma", "m4a", "m4v", "mat", "mdb",
    "mid", "midi", "mkv", "mobi", "mov", "mp3", "mp4", "mpeg", "mpg", "msi", "n64", "nds", "nef",
    "nes", "npy", "npz", "o", "odt", "ogg", "ogv", "opus", "orf", "otf", "pages", "pak", "parquet",
    "pcap", "pcapng", "pdf", "png", "ppt", "pptx", "psd", "pyc", "pyo", "qcow2", "rar", "raw",
    "rom", "sav", "sfc", "shp", "shx", "smc", "so", "sqlite", "sqlite3", "step", "stl", "stp",
    "tar", "tif", "tiff", "ttc", "ttf", "usdz", "vdi", "vhd", "vmdk", "wasm", "wav", "webm",
    "webp", "wma", "wmv", "woff", "woff2", "xcf", "xls", "xlsx", "xz", "z", "zip", "zst",
];

/// Magic numbers of known binary formats, in file order.
pub const BINARY_SIGNATURES: &[&[u8]] = &[
    &[0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
    &[0xff, 0xd8, 0xff, 0xe0],
    &[0xff, 0xd8, 0xff, 0xe1],
    &[0x47, 0x49, 0x46, 0x38, 0x37, 0x61],
    &[0x47, 0x49, 0x46, 0x38, 0x39, 0x61],
    &[0x42, 0x4d],
    &[0x4d, 0x4d, 0x00, 0x2a],
    &[0x49, 0x49, 0x2a, 0x00],
    &[0x00, 0x00, 0x01, 0x00],
    &[0x25, 0x50, 0x44, 0x46, 0x2d, 0x31, 0x2e],
    &[
        0x53, 0x51, 0x4c, 0x69, 0x74, 0x65, 0x20, 0x66, 0x6f, 0x72, 0x6d, 0x61, 0x74, 0x20, 0x33,
        0x00,
    ],
    &[0x50, 0x4b, 0x03, 0x04],
    &[0x1f, 0x8b, 0x08],
    &[0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00],
    &[0x7f, 0x45, 0x4c, 0x46],
    &[0xfe, 0xed, 0xfa, 0xce],
    &[0xce, 0xfa, 0xed, 0xfe],
    &[0xfe, 0xed, 0xfa, 0xcf],
    &[0xcf, 0xfa, 0xed, 0xfe],
    &[0x4d, 0x5a],
    &[0xca, 0xfe, 0xba, 0xbe],
    &[0x52, 0x49, 0x46, 0x46],
    &[0x4f, 0x67, 0x67, 0x53],
    &[0x66, 0x4c, 0x61, 0x43],
    &[0x00, 0x61, 0x73, 0x6d],
    &[0x77, 0x4f, 0x46, 0x46],
    &[0x4f, 0x54, 0x54, 0x4f],
    &[0x00, 0x01, 0x00, 0x00, 0x00],
    &[0x00, 0x00, 0x00, 0x01, 0x42, 0x75, 0x64, 0x31],
    &[0x77, 0x4f, 0x46, 0x32],
    &[
        0x52, 0x49, 0x46, 0x46, 0x00, 0x00, 0x00, 0x00, 0x57, 0x45, 0x42, 0x50,
    ],
    &[0x00, 0x00, 0x00, 0x18, 0x66, 0x74, 0x79, 0x70],
    &[0x49, 0x44, 0x33],
    &[0x42, 0x5a, 0x68],
    &[0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c],
    &[0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1],
    &[0x28, 0xb5, 0x2f, 0xfd],
    &[0x52, 0x61, 0x72, 0x21, 0x1a, 0x07],
    &[0x1a, 0x45, 0xdf, 0xa3],
    &[0x4d, 0x54, 0x68, 0x64],
    &[0x38, 0x42, 0x50, 0x53],
    &[
        0x00, 0x00, 0x00, 0x1c, 0x66, 0x74, 0x79, 0x70, 0x68, 0x65, 0x69, 0x63,
    ],
    &[0x50, 0x41, 0x52, 0x31],
    &[0x64, 0x65, 0x78, 0x0a],
    &[0x42, 0x43, 0xc0, 0xde],
    &[0x50, 0x41, 0x43, 0x4b],
    &[0x62, 0x70, 0x6c, 0x69, 0x73, 0x74],
    &[0x21, 0x3c, 0x61, 0x72, 0x63, 0x68, 0x3e, 0x0a],
    &[0x04, 0x22, 0x4d, 0x18],
    &[0x41, 0x52, 0x52, 0x4f, 0x57, 0x31],
    &[0x4f, 0x62, 0x6a, 0x01],
    &[0x5d, 0x00, 0x00],
    &[0xa1, 0xb2, 0xc3, 0xd4],
    &[0xff, 0x06, 0x00, 0x00, 0x73, 0x4e, 0x61, 0x50, 0x70, 0x59],
    &[0xfe, 0xed, 0xfe, 0xed],
    &[0x30, 0x37, 0x30, 0x37, 0x30, 0x31],
];

/// The trained tree over the features of `binary::features`; true means binary.
pub fn is_binary(f: &[f64; 24]) -> bool {
    if f[1] <= 0.000977_f64 {
        if f[17] <= 0.000977_f64 {
            if f[4] <= 0.5_f64 {
                if f[22] <= 0.5_f64 {
                    if f[7] <= 1.953445_f64 {
                        true
                    } else {
                        if f[7] <= 2.74947_f64 {
                            false
                        } else {
                            if f[14] <= 0.5_f64 { true } else { true }
                        }
                    }
                } else {
                    false
                }
            } else {
                false
            }
        } else {
            if f[4] <= 0.5_f64 {
                if f[17] <= 0.063636_f64 {
                    if f[7] <= 2.021329_f64 {
                        true
                    } else {
                        if f[13] <= 0.5_f64 { false } else { false }
                    }
                } else {
                    if f[7] <= 3.047898_f64 {
                        false
                    } else {
                        if f[2] <= 0.758706_f64 {
                            if f[17] <= 0.134848_f64 {
                                if f[3] <= 0.633612_f64 {
                                    if f[7] <= 3.851786_f64 {
                                        false
                                    } else {
                                        if f[3] <= 0.483333_f64 {
                                            false
                                        } else {
                                            if f[17] <= 0.129167_f64 { true } else { false }
                                        }
                                    }
                                } else {
                                    if f[2] <= 0.145455_f64 { false } else { true }
                                }
                            } else {
                                if f[19] <= 0.5_f64 {
                                    if f[7] <= 3.572021_f64 {
                                        if f[3] <= 0.49_f64 {
                                            if f[2] <= 0.651515_f64 { false } else { true }
                                        } else {
                                            if f[7] <= 3.370112_f64 {
                                                true
                                            } else {
                                                if f[3] <= 0.651515_f64 {
                                                    if f[17] <= 0.318182_f64 { true } else { true }
                                                } else {
                                                    true
                                                }
                                            }
                                        }
                                    } else {
                                        if f[2] <= 0.615079_f64 {
                                            if f[20] <= 0.5_f64 {
                                                if f[13] <= 0.5_f64 { true } else { true }
                                            } else {
                                                if f[17] <= 0.176923_f64 { false } else { true }
                                            }
                                        } else {
                                            if f[17] <= 0.252381_f64 { false } else { true }
                                        }
                                    }
                                } else {
                                    if f[7] <= 3.889752_f64 { true } else { false }
                                }
                            }
                        } else {
                            false
                        }
                    }
                }
            } else {
                false
            }
        }
    } else {
        if f[0] <= 0.163978_f64 {
            if f[4] <= 0.5_f64 {
                if f[7] <= 3.264621_f64 {
                    if f[17] <= 0.022678_f64 {
                        if f[2] <= 0.000977_f64 {
                            if f[5] <= 0.001953_f64 { false } else { true }
                        } else {
                            true
                        }
                    } else {
                        if f[1] <= 0.095455_f64 {
                            if f[17] <= 0.306818_f64 {
                                if f[1] <= 0.055728_f64 { false } else { false }
                            } else {
                                true
                            }
                        } else {
                            false
                        }
                    }
                } else {
                    if f[10] <= 0.5_f64 {
                        if f[2] <= 0.455534_f64 {
                            if f[3] <= 0.79057_f64 {
                                if f[1] <= 0.485714_f64 {
                                    if f[7] <= 3.540884_f64 {
                                        if f[7] <= 3.528408_f64 {
                                            if f[2] <= 0.316667_f64 {
                                                if f[2] <= 0.286364_f64 {
                                                    if f[17] <= 0.095455_f64 { true } else { true }
                                                } else {
                                                    if f[13] <= 0.5_f64 { false } else { true }
                                                }
                                            } else {
                                                true
                                            }
                                        } else {
                                            false
                                        }
                                    } else {
                                        if f[2] <= 0.446657_f64 {
                                            true
                                        } else {
                                            if f[17] <= 0.066638_f64 {
                                                if f[2] <= 0.450099_f64 { false } else { true }
                                            } else {
                                                true
                                            }
                                        }
                                    }
                                } else {
                                    false
                                }
                            } else {
                                false
                            }
                        } else {
                            if f[3] <= 0.425959_f64 {
                                if f[3] <= 0.394552_f64 {
                                    if f[7] <= 4.209417_f64 {
                                        if f[7] <= 4.175213_f64 {
                                            if f[3] <= 0.100962_f64 {
                                                false
                                            } else {
                                                if f[3] <= 0.248047_f64 {
                                                    true
                                                } else {
                                                    if f[17] <= 0.106443_f64 { false } else { true }
                                                }
                                            }
                                        } else {
                                            false
                                        }
                                    } else {
                                        if f[23] <= 0.5_f64 { true } else { true }
                                    }
                                } else {
                                    if f[17] <= 0.082906_f64 {
                                        false
                                    } else {
                                        if f[1] <= 0.025_f64 {
                                            false
                                        } else {
                                            if f[7] <= 3.520764_f64 {
                                                false
                                            } else {
                                                if f[1] <= 0.1225_f64 {
                                                    true
                                                } else {
                                                    if f[0] <= 0.033333_f64 { false } else { true }
                                                }
                                            }
                                        }
                                    }
                                }
                            } else {
                                if f[17] <= 0.098599_f64 {
                                    if f[1] <= 0.012902_f64 {
                                        true
                                    } else {
                                        if f[23] <= 0.5_f64 {
                                            false
                                        } else {
                                            if f[3] <= 0.458087_f64 { true } else { true }
                                        }
                                    }
                                } else {
                                    if f[7] <= 4.453697_f64 {
                                        if f[3] <= 0.472136_f64 {
                                            if f[17] <= 0.121324_f64 {
                                                false
                                            } else {
                                                if f[17] <= 0.302885_f64 {
                                                    if f[7] <= 3.539612_f64 { false } else { true }
                                                } else {
                                                    false
                                                }
                                            }
                                        } else {
                                            true
                                        }
                                    } else {
                                        true
                                    }
                                }
                            }
                        }
                    } else {
                        if f[14] <= 0.5_f64 { false } else { false }
                    }
                }
            } else {
                if f[1] <= 0.45_f64 {
                    if f[1] <= 0.006212_f64 { true } else { false }
                } else {
                    true
                }
            }
        } else {
            if f[23] <= 0.5_f64 {
                if f[3] <= 0.082843_f64 {
                    if f[6] <= 0.282534_f64 {
                        false
                    } else {
                        if f[7] <= 3.088801_f64 {
                            if f[0] <= 0.822852_f64 {
                                if f[2] <= 0.291667_f64 {
                                    false
                                } else {
                                    if f[1] <= 0.521739_f64 { false } else { true }
                                }
                            } else {
                                if f[16] <= 0.5_f64 { true } else { true }
                            }
                        } else {
                            if f[5] <= 0.140625_f64 { false } else { true }
                        }
                    }
                } else {
                    if f[17] <= 0.291667_f64 {
                        if f[7] <= 0.698576_f64 {
                            true
                        } else {
                            if f[7] <= 5.613847_f64 {
                                if f[2] <= 0.361264_f64 {
                                    if f[20] <= 0.5_f64 {
                                        false
                                    } else {
                                        if f[14] <= 0.5_f64 {
                                            if f[0] <= 0.379808_f64 { false } else { true }
                                        } else {
                                            false
                                        }
                                    }
                                } else {
                                    if f[2] <= 0.408333_f64 {
                                        if f[1] <= 0.26_f64 { false } else { true }
                                    } else {
                                        false
                                    }
                                }
                            } else {
                                if f[17] <= 0.012485_f64 { false } else { true }
                            }
                        }
                    } else {
                        true
                    }
                }
            } else {
                if f[20] <= 0.5_f64 { true } else { true }
            }
        }
    }
}
