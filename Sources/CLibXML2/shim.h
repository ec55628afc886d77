#ifndef SPENDBOARD_CLIBXML2_SHIM_H
#define SPENDBOARD_CLIBXML2_SHIM_H

/* Debian builds libxml2 with ICU, and the Swift toolchain bundles its own ICU: a module that
 * sees both Foundation and libxml2's ICU-dependent headers fails a clean build with
 * "'UErrorCode' has different definitions in different modules". Read the version header
 * first and switch the ICU parts off before any other libxml2 header. */
#include <libxml/xmlversion.h>
#undef LIBXML_ICU_ENABLED

#include <libxml/parser.h>
#include <libxml/xmlerror.h>
#include <libxml/tree.h>

#endif
