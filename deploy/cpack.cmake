# deploy/cpack.cmake: the deployment files and the Debian package.
#
# CMakeLists.txt includes it after its own install() rules (the program,
# admin-web, protocol-docs):
#
#   include(deploy/cpack.cmake)
#
# The package:
#   cmake -S . -B b -DDINET_TESTS=OFF -DCMAKE_INSTALL_PREFIX=/usr
#   cmake --build b -j2
#   (cd b && cpack)            # -> b/dinet_VERSION_ARCH.deb
#
# It holds /usr/bin/dinet, /usr/share/dinet/{admin-web,protocol-docs,nginx},
# /lib/systemd/system/dinet.service and dinet@.service, the man page dinet(1),
# /etc/dinet/dinet.conf.example (a conffile) and the documentation; postinst
# creates the system user dinet and /var/lib/dinet (deploy/debian/).
#
# With another prefix (e.g. cmake --install b --prefix /opt/dinet) the units and
# the example configuration go below that prefix instead of /lib and /etc.

include(GNUInstallDirs)

set(DINET_DEPLOY_DIR ${CMAKE_CURRENT_LIST_DIR})

if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(_dinet_unit_dir_default "/lib/systemd/system")
else()
  set(_dinet_unit_dir_default "${CMAKE_INSTALL_PREFIX}/lib/systemd/system")
endif()
set(DINET_SYSTEMD_UNIT_DIR "${_dinet_unit_dir_default}" CACHE PATH
    "Directory for dinet.service and dinet@.service")
set(DINET_PACKAGE_MAINTAINER "dinet maintainers <dinet@localhost>" CACHE STRING
    "Maintainer field of the Debian package")

# ---- deployment files ----------------------------------------------------------

install(FILES ${DINET_DEPLOY_DIR}/dinet.service ${DINET_DEPLOY_DIR}/dinet@.service
        DESTINATION ${DINET_SYSTEMD_UNIT_DIR})
install(FILES ${DINET_DEPLOY_DIR}/dinet.conf.example
        DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/dinet)
install(FILES ${DINET_DEPLOY_DIR}/nginx/dinet.conf
        DESTINATION ${CMAKE_INSTALL_DATADIR}/dinet/nginx)
install(FILES ${CMAKE_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES ${DINET_DEPLOY_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR}
        RENAME README.deploy.md)

# The man page, with this version on its title line, compressed as Debian wants.
file(READ ${DINET_DEPLOY_DIR}/dinet.1 _dinet_man)
string(REGEX REPLACE "\"dinet [0-9][^\"]*\"" "\"dinet ${PROJECT_VERSION}\"" _dinet_man
       "${_dinet_man}")
file(WRITE ${CMAKE_BINARY_DIR}/man/dinet.1 "${_dinet_man}")
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${DINET_DEPLOY_DIR}/dinet.1)
find_program(DINET_GZIP gzip REQUIRED)
add_custom_command(
  OUTPUT ${CMAKE_BINARY_DIR}/man/dinet.1.gz
  COMMAND ${DINET_GZIP} -9 -n -f -k ${CMAKE_BINARY_DIR}/man/dinet.1
  DEPENDS ${CMAKE_BINARY_DIR}/man/dinet.1
  COMMENT "Compressing the man page dinet(1)"
  VERBATIM)
add_custom_target(dinet_man ALL DEPENDS ${CMAKE_BINARY_DIR}/man/dinet.1.gz)
install(FILES ${CMAKE_BINARY_DIR}/man/dinet.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)

# ---- the Debian package ----------------------------------------------------------

set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "dinet")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_VENDOR "Digitales Integrationsnetzwerk Sachsen-Anhalt")
set(CPACK_PACKAGE_CONTACT "${DINET_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "node of the Digital Integration Network of Sachsen-Anhalt (ActivityPub)")
# The summary above is the first line of the Description field; this is the
# extended text (CPack indents it).
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "dinet runs a district node, which records the integration work of one
district (organisations, measures, progress) and publishes it with signed
ActivityPub activities, or the state node, which follows the districts and
builds the statewide view: one program with a JSON API, an admin web
interface, open data, systemd units and an nginx example.")
set(CPACK_DEBIAN_PACKAGE_SECTION "net")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
set(CPACK_DEBIAN_PACKAGE_DEPENDS
    "libc6, libmicrohttpd12, libsqlite3-0, libjansson4, libsodium23, libcurl4, libssl3, passwd")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "nginx, certbot | dehydrated, sqlite3")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    "${DINET_DEPLOY_DIR}/debian/postinst;${DINET_DEPLOY_DIR}/debian/prerm;${DINET_DEPLOY_DIR}/debian/postrm;${DINET_DEPLOY_DIR}/debian/conffiles")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
set(CPACK_STRIP_FILES TRUE)
# Absolute destinations (/etc, /lib/systemd/system) are intended.
set(CPACK_WARN_ON_ABSOLUTE_INSTALL_DESTINATION OFF)

include(CPack)
