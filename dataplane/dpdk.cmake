# The DPDK ethdev backend of the datagram port, in its own library so that only
# the programs that offer --dataplane dpdk link DPDK.
add_library(dataplane_dpdk STATIC
  ${CMAKE_CURRENT_LIST_DIR}/dpdk_port.c
  ${CMAKE_CURRENT_LIST_DIR}/dpdk_port_io.c
  ${CMAKE_CURRENT_LIST_DIR}/dpdk_port_telemetry.c
  ${CMAKE_CURRENT_LIST_DIR}/dpdk_eal.c
  ${CMAKE_CURRENT_LIST_DIR}/dpdk_frames.c
  ${CMAKE_CURRENT_LIST_DIR}/dpdk_neighbours.c
  ${CMAKE_CURRENT_LIST_DIR}/dpdk_telemetry.c
)
target_include_directories(dataplane_dpdk PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(dataplane_dpdk PUBLIC PkgConfig::DPDK Threads::Threads)
