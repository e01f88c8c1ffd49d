# What `cmake --install` puts where, the manual pages, and the Debian
# package CPack builds from the same rules (`cpack -G DEB`, or
# deploy/make-deb.sh, which configures for it). Included by CMakeLists.txt.
#
# The layout is the FHS one GNUInstallDirs gives: with the prefix /usr (the
# package's), the binaries go to /usr/bin, the configuration to
# /etc/repute, the unit to /lib/systemd/system, the documentation to
# /usr/share/doc/repute, the pages to /usr/share/man; with another prefix
# (/usr/local by default) everything stays under it, the unit included, so
# that a plain `cmake --install` never writes outside its prefix. The
# package is meant to be built with the prefix /usr; CPack installs into a
# staging directory, never onto the build machine.
include(GNUInstallDirs)

install(TARGETS repute RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# ---------------------------------------------------------------- man pages
# repute(1) from docs/repute.1.md, repute.properties(5) from
# docs/configuration.md between a head and a tail of its own (docs/man/),
# by pandoc (cmake/man.cmake). AUTO: built when pandoc is found; ON: pandoc
# is required (deploy/make-deb.sh); OFF: no pages.
set(REPUTE_MAN AUTO CACHE STRING "build the manual pages with pandoc: AUTO, ON or OFF")
if(NOT REPUTE_MAN STREQUAL OFF)
  find_program(PANDOC_EXECUTABLE pandoc)
  if(NOT PANDOC_EXECUTABLE AND REPUTE_MAN STREQUAL ON)
    message(FATAL_ERROR "REPUTE_MAN=ON needs pandoc (deploy/install-deps.sh)")
  elseif(NOT PANDOC_EXECUTABLE)
    message(STATUS "pandoc not found: no manual pages (REPUTE_MAN=AUTO)")
  endif()
endif()
if(NOT REPUTE_MAN STREQUAL OFF AND PANDOC_EXECUTABLE)
  set(REPUTE_MAN_DIR ${CMAKE_BINARY_DIR}/man)
  set(man_filter ${CMAKE_SOURCE_DIR}/docs/man/man.lua)
  set(man1_in ${CMAKE_SOURCE_DIR}/docs/repute.1.md)
  set(man5_in ${CMAKE_SOURCE_DIR}/docs/man/repute.properties.5.head.md
              ${CMAKE_SOURCE_DIR}/docs/configuration.md
              ${CMAKE_SOURCE_DIR}/docs/man/repute.properties.5.tail.md)
  set(man_script ${CMAKE_SOURCE_DIR}/cmake/man.cmake)
  file(MAKE_DIRECTORY ${REPUTE_MAN_DIR})
  foreach(page repute.1 repute.properties.5)
    if(page STREQUAL repute.1)
      set(inputs ${man1_in})
      set(title REPUTE)
      set(section 1)
    else()
      set(inputs ${man5_in})
      set(title REPUTE.PROPERTIES)
      set(section 5)
    endif()
    string(REPLACE ";" "|" inputs_arg "${inputs}")
    add_custom_command(
      OUTPUT ${REPUTE_MAN_DIR}/${page} ${REPUTE_MAN_DIR}/${page}.gz
      COMMAND ${CMAKE_COMMAND} -DPANDOC=${PANDOC_EXECUTABLE}
              -DFILTER=${man_filter} "-DINPUTS=${inputs_arg}"
              -DOUT=${REPUTE_MAN_DIR}/${page} -DTITLE=${title}
              -DSECTION=${section} -DVERSION=${PROJECT_VERSION}
              -P ${man_script}
      DEPENDS ${inputs} ${man_filter} ${man_script}
      COMMENT "Writing the manual page ${page}"
      VERBATIM)
    list(APPEND REPUTE_MAN_PAGES ${REPUTE_MAN_DIR}/${page}.gz)
    install(FILES ${REPUTE_MAN_DIR}/${page}.gz
            DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
  endforeach()
  add_custom_target(repute_man ALL DEPENDS ${REPUTE_MAN_PAGES})
endif()

# ---------------------------------------------------------------- service
# The sample configuration, as /etc/repute/repute.properties (a conffile in
# the package: deploy/debian/conffiles), and the systemd unit, whose
# ExecStart (written for the package in deploy/repute.service) follows the
# prefix.
install(FILES ${CMAKE_SOURCE_DIR}/deploy/repute.properties
        DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/repute
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(REPUTE_SYSTEMD_UNIT_DIR_DEFAULT /lib/systemd/system)
else()
  set(REPUTE_SYSTEMD_UNIT_DIR_DEFAULT ${CMAKE_INSTALL_PREFIX}/lib/systemd/system)
endif()
set(REPUTE_SYSTEMD_UNIT_DIR ${REPUTE_SYSTEMD_UNIT_DIR_DEFAULT} CACHE PATH
    "where the systemd unit is installed")
file(READ ${CMAKE_SOURCE_DIR}/deploy/repute.service unit)
# Only the ExecStart line: the header's hand-install commands stay as written.
string(REPLACE "ExecStart=/usr/bin/repute run --config /etc/repute/"
       "ExecStart=${CMAKE_INSTALL_FULL_BINDIR}/repute run --config ${CMAKE_INSTALL_FULL_SYSCONFDIR}/repute/"
       unit "${unit}")
file(GENERATE OUTPUT ${CMAKE_BINARY_DIR}/gen/repute.service CONTENT "${unit}")
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
             ${CMAKE_SOURCE_DIR}/deploy/repute.service)
install(FILES ${CMAKE_BINARY_DIR}/gen/repute.service
        DESTINATION ${REPUTE_SYSTEMD_UNIT_DIR})
# The repute user's home; repute itself keeps its state in Kafka.
install(DIRECTORY DESTINATION ${CMAKE_INSTALL_FULL_LOCALSTATEDIR}/lib/repute)

# ---------------------------------------------------------------- docs
file(GLOB REPUTE_DOCS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/docs/*.md)
install(FILES ${CMAKE_SOURCE_DIR}/README.md ${CMAKE_SOURCE_DIR}/CHANGELOG.md
              ${CMAKE_SOURCE_DIR}/deploy/debian/copyright
        DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES ${REPUTE_DOCS} ${CMAKE_SOURCE_DIR}/docs/dashboard.png
        DESTINATION ${CMAKE_INSTALL_DOCDIR}/docs)
install(FILES ${CMAKE_SOURCE_DIR}/examples/review-and-pause.jsonl
              ${CMAKE_SOURCE_DIR}/examples/review-and-pause.properties
        DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)

# ---------------------------------------------------------------- package
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME repute)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "sending-reputation stream processor for email-sending services")
set(CPACK_PACKAGE_DESCRIPTION
    "repute keeps the sending reputation of every account of an email-sending\n"
    "service: it counts bounces and complaints over a representative window,\n"
    "weighs third-party reports, runs each account through review and pause,\n"
    "and publishes every status change and notification. It runs as a Kafka\n"
    "stream processor (repute run, the systemd unit repute.service) or on a\n"
    "file of JSON lines (repute replay). The package also holds the load\n"
    "generator and the reading tools of its benchmarks, to measure a cluster.")
string(REPLACE ";" "" CPACK_PACKAGE_DESCRIPTION "${CPACK_PACKAGE_DESCRIPTION}")
# The maintainers' address is the one the repository's commits carry; a
# build for another organisation sets its own with
# -DREPUTE_PACKAGE_MAINTAINER="Name <address>".
set(REPUTE_PACKAGE_MAINTAINER
    "repute maintainers <maintainers@users.noreply.r-seed-1d38c452.example>"
    CACHE STRING "the Maintainer field of the Debian package")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER ${REPUTE_PACKAGE_MAINTAINER})
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# The libraries' packages come from dpkg-shlibdeps (dpkg-dev), which reads
# the binaries: librdkafka1, libavro23, libuv1, libjansson4, libcurl4,
# libhttp-parser2.9, libssl3, libc6. adduser is for postinst.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_SOURCE_DIR}/deploy/debian/conffiles
    ${CMAKE_SOURCE_DIR}/deploy/debian/postinst
    ${CMAKE_SOURCE_DIR}/deploy/debian/prerm
    ${CMAKE_SOURCE_DIR}/deploy/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
set(CPACK_STRIP_FILES TRUE)
include(CPack)
