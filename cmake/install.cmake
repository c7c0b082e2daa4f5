# Installation of the client side: headers, the static archives of eventsocket::client and
# what it links (event, wire), a CMake package (find_package(eventsocket)) and a pkg-config
# file. Relocatable: `cmake --install <build> --prefix <dir>` works for any <dir>.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(EVENTSOCKET_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/eventsocket)

install(TARGETS eventsocket_wire eventsocket_event eventsocket_client
        EXPORT eventsocketTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
# Only the headers of the installed layers: the others need libraries that are not installed.
foreach(layer wire event client)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/eventsocket/${layer}
          DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/eventsocket)
endforeach()

install(EXPORT eventsocketTargets
        NAMESPACE eventsocket::
        FILE eventsocketTargets.cmake
        DESTINATION ${EVENTSOCKET_CMAKE_DIR})
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/eventsocketConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/eventsocketConfig.cmake
                              INSTALL_DESTINATION ${EVENTSOCKET_CMAKE_DIR})
# 0.x: a new minor version may change the API.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/eventsocketConfigVersion.cmake
                                 VERSION ${PROJECT_VERSION}
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/eventsocketConfig.cmake
              ${PROJECT_BINARY_DIR}/eventsocketConfigVersion.cmake
        DESTINATION ${EVENTSOCKET_CMAKE_DIR})

# The way back from <prefix>/<libdir>/pkgconfig to <prefix> ("../.." or, for a multiarch
# libdir, "../../..").
file(RELATIVE_PATH EVENTSOCKET_PC_PREFIX_FROM_PCFILEDIR
     /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
string(REGEX REPLACE "/$" "" EVENTSOCKET_PC_PREFIX_FROM_PCFILEDIR
       "${EVENTSOCKET_PC_PREFIX_FROM_PCFILEDIR}")
configure_file(${CMAKE_CURRENT_LIST_DIR}/eventsocket.pc.in
               ${PROJECT_BINARY_DIR}/eventsocket.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/eventsocket.pc
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
