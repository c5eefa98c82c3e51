#include "ingest/hashing.h"

#include <gtest/gtest.h>

namespace touchpoint::ingest {
namespace {

TEST(Hashing, Sha256OfKnownVector) {
  // FIPS 180-2 test vector.
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Hashing, EmailIsTrimmedAndLowercasedBeforeHashing) {
  // Meta's documented example: John_Smith@gmail.com -> 62a14e44... (spec §4.2).
  EXPECT_EQ(HashIdentifier(IdentifierKind::kEmail, "  John_Smith@gmail.com "),
            "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f");
}

TEST(Hashing, PhoneBecomesE164WithPlus) {
  EXPECT_EQ(NormalizePhone("(650) 555-1212"), "+6505551212");
  EXPECT_EQ(NormalizePhone("+1 650-555-1212"), "+16505551212");
  EXPECT_EQ(NormalizePhone("0044 20 7946 0000"), "+442079460000");
  EXPECT_EQ(HashIdentifier(IdentifierKind::kPhone, "+1 (650) 555-1212"), Sha256Hex("+16505551212"));
}

TEST(Hashing, AlreadyHashedValuesPassThroughLowercased) {
  std::string h = "62A14E44F765419D10FEA99367361A727C12365E2520F32218D505ED9AA0F62F";
  EXPECT_EQ(HashIdentifier(IdentifierKind::kEmail, h),
            "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f");
}

TEST(Hashing, Sha256HexCheckTakesBothCasesAndNothingElse) {
  EXPECT_TRUE(IsSha256Hex(std::string(64, 'a')));
  EXPECT_TRUE(IsSha256Hex(std::string(32, 'F') + std::string(32, '9')));
  EXPECT_FALSE(IsSha256Hex(std::string(63, 'a')));
  EXPECT_FALSE(IsSha256Hex(std::string(63, 'a') + "g"));
  EXPECT_FALSE(IsSha256Hex(std::string(63, 'a') + " "));
  EXPECT_FALSE(IsSha256Hex(std::string(63, 'a') + "\xc3"));
}

TEST(Hashing, EmailNormalizationLowercasesAsciiAndKeepsOtherBytes) {
  // Trimmed of ASCII white space (tabs and newlines too); UTF-8 letters are left as they are.
  EXPECT_EQ(NormalizeEmail(" \tJ\xc3\x96RG@Example.COM\r\n"), "j\xc3\x96rg@example.com");
}

TEST(Hashing, ExternalIdKeepsCase) {
  EXPECT_EQ(HashIdentifier(IdentifierKind::kExternalId, " User-42 "), Sha256Hex("User-42"));
}

TEST(Hashing, EmptyAfterNormalizationGivesEmpty) {
  EXPECT_EQ(HashIdentifier(IdentifierKind::kPhone, "abc"), "");
}

}  // namespace
}  // namespace touchpoint::ingest
