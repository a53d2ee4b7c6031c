# install-generated.cmake: the install step for the files that name the
# install prefix (tokgate.pc, the systemd unit) and for the optional copy of
# the example config to a system config directory. It runs at install time
# (install(SCRIPT) in CMakeLists.txt), where CMAKE_INSTALL_PREFIX is the prefix
# of *this* install (`cmake --install build --prefix P`), not the one fixed
# when build/ was configured; so `make install PREFIX=...` is honoured every
# time. DESTDIR is honoured by file(INSTALL). Inputs, set by install(CODE)
# just before: TG_SRC, TG_GEN (a scratch folder in the build tree), TG_LIBDIR,
# TG_BINDIR, TG_INCLUDEDIR, TG_VERSION, TG_INSTALL_UNIT, TG_UNITDIR.
# Environment: TG_CONFDIR (e.g. /etc/tokgate): also install the example
# config there as tokgate.json, unless one is there already.
set(prefix "${CMAKE_INSTALL_PREFIX}")
file(MAKE_DIRECTORY "${TG_GEN}")

# pkg-config file with this install's prefix.
set(CMAKE_INSTALL_LIBDIR "${TG_LIBDIR}")
set(CMAKE_INSTALL_INCLUDEDIR "${TG_INCLUDEDIR}")
set(PROJECT_VERSION "${TG_VERSION}")
configure_file("${TG_SRC}/tokgate.pc.in" "${TG_GEN}/tokgate.pc" @ONLY)
file(INSTALL DESTINATION "${prefix}/${TG_LIBDIR}/pkgconfig" TYPE FILE FILES "${TG_GEN}/tokgate.pc")

# The unit names the binary by its installed path.
if(TG_INSTALL_UNIT)
  file(READ "${TG_SRC}/etc/systemd/tokgate.service" unit)
  if(IS_ABSOLUTE "${TG_BINDIR}")
    set(bindir "${TG_BINDIR}")
  else()
    set(bindir "${prefix}/${TG_BINDIR}")
  endif()
  string(REPLACE "/usr/bin/tokgate " "${bindir}/tokgate " unit "${unit}")
  file(WRITE "${TG_GEN}/tokgate.service" "${unit}")
  file(INSTALL DESTINATION "${prefix}/${TG_UNITDIR}" TYPE FILE FILES "${TG_GEN}/tokgate.service")
endif()

if(NOT "$ENV{TG_CONFDIR}" STREQUAL "")
  set(confdir "$ENV{TG_CONFDIR}")
  if(EXISTS "$ENV{DESTDIR}${confdir}/tokgate.json")
    message(STATUS "Keeping: $ENV{DESTDIR}${confdir}/tokgate.json (already there)")
  else()
    file(INSTALL DESTINATION "${confdir}" TYPE FILE FILES "${TG_SRC}/etc/tokgate.json"
         PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
  endif()
endif()
