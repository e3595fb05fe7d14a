# billpay_library(NAME <folder> SRCS <files...> DEPS <targets...>)
#
# Every top-level source folder is one static library, billpay_<folder>, with the alias
# billpay::<folder>. Includes are written from the repository root, so the root is the
# public include directory of every library. A folder with no .cpp yet (only interfaces)
# becomes an INTERFACE library through the same call, so its dependents need not change
# when it grows sources.
function(billpay_library)
    cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS" ${ARGN})
    set(target billpay_${ARG_NAME})
    if(ARG_SRCS)
        add_library(${target} STATIC ${ARG_SRCS})
        target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR})
        target_link_libraries(${target} PUBLIC ${ARG_DEPS})
        target_compile_options(${target} PRIVATE ${BILLPAY_WARNINGS})
    else()
        add_library(${target} INTERFACE)
        target_include_directories(${target} INTERFACE ${PROJECT_SOURCE_DIR})
        target_link_libraries(${target} INTERFACE ${ARG_DEPS})
    endif()
    add_library(billpay::${ARG_NAME} ALIAS ${target})
endfunction()

# billpay_program(NAME <binary> SRCS <files...> DEPS <targets...>): a binary in build/bin.
function(billpay_program)
    cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS" ${ARGN})
    add_executable(${ARG_NAME} ${ARG_SRCS})
    target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS})
    target_compile_options(${ARG_NAME} PRIVATE ${BILLPAY_WARNINGS})
endfunction()
