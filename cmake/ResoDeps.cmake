# SPDX-License-Identifier: Apache-2.0
# Third-party libraries, all from Debian packages (see scripts/setup.sh).
find_package(PkgConfig REQUIRED)
pkg_check_modules(GRPC REQUIRED IMPORTED_TARGET grpc)
pkg_check_modules(PROTOBUFC REQUIRED IMPORTED_TARGET libprotobuf-c)
pkg_check_modules(OPENSSL REQUIRED IMPORTED_TARGET openssl)
pkg_check_modules(JANSSON REQUIRED IMPORTED_TARGET jansson)
pkg_check_modules(CURL REQUIRED IMPORTED_TARGET libcurl)
pkg_check_modules(MHD REQUIRED IMPORTED_TARGET libmicrohttpd)
# libmicrohttpd does TLS through GnuTLS; reso-gateway checks mutual-TLS
# client certificates on MHD's GnuTLS session (gateway/src/http.c).
pkg_check_modules(GNUTLS REQUIRED IMPORTED_TARGET gnutls)
find_package(Threads REQUIRED)
find_program(PROTOC_C protoc-c REQUIRED)
