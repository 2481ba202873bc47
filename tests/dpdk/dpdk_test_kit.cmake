# What the DPDK tests (tests/dpdk) and the switch benchmark (bench/switch) share:
# ISO test messages, the one-bank DPDK ecosystem.yaml and the EAL's runtime
# directory removal. Included from both
# directories (either may be built without the other), defined once.
if(NOT TARGET dpdk_test_kit)
  add_library(dpdk_test_kit STATIC
    ${CMAKE_CURRENT_LIST_DIR}/iso_test_messages.c
    ${CMAKE_CURRENT_LIST_DIR}/eal_runtime_dir.c
    ${CMAKE_CURRENT_LIST_DIR}/one_bank_ecosystem.c)
  target_include_directories(dpdk_test_kit PUBLIC ${CMAKE_CURRENT_LIST_DIR})
  target_link_libraries(dpdk_test_kit PUBLIC dataplane dataplane_dpdk ecosystem pan_vault)
endif()
