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
// Expected digests from `printf '%s' VALUE | sha256sum`, VALUE normalized by hand.
constexpr const char* kJohn = "96d9632f363564cc3032521409cf22a852f2032eec099ed5967c0d000cec607a";
constexpr const char* kObrien = "b4cb6cb33fe4b865868de825023a1e2790dc12ac01ecc8d7c5afe8254071c8ba";
constexpr const char* kMaryAnn = "343b97011010c3549fe7fcd6c226ed9431ea37b0b77ed78f6300a0098925faf1";
constexpr const char* k94107 = "c884a209ebe08750a7d13db63bd02233b375bd79786cbe329ab11586cc35dead";
constexpr const char* kSw1a1aa = "830e1d4b9838bab1f5c2acdb23e0b502ff13a9832c4632e8d67a1d43d3b7f614";
constexpr const char* kSanFrancisco =
    "1a6bd4d9d79dc0a79b53795c70d3349fa9e38968a3fbefbfe8783efb1d2b6aac";
constexpr const char* kCa = "6959097001d10501ac7d54c0bdb8db61420f658f2922cc26e46d536119a31126";
constexpr const char* kUs = "79adb2a2fce5c6ba215fe5f27f532d4e7edbac4b6a5e09e1ef3a08084a904621";

TEST(Hashing, NamesAreTrimmedLowercasedAndLosePunctuation) {
  EXPECT_EQ(HashIdentifier(IdentifierKind::kFirstName, "  John "), kJohn);
  EXPECT_EQ(HashIdentifier(IdentifierKind::kLastName, "O'Brien"), kObrien);
  EXPECT_EQ(HashIdentifier(IdentifierKind::kFirstName, "Mary Ann."), kMaryAnn);  // inner space kept
}

TEST(Hashing, ZipCodeLosesSpacesAndTheZipPlus4Part) {
  EXPECT_EQ(HashIdentifier(IdentifierKind::kZipCode, "94107-1234"), k94107);
  EXPECT_EQ(HashIdentifier(IdentifierKind::kZipCode, " 94107 "), k94107);
  EXPECT_EQ(HashIdentifier(IdentifierKind::kZipCode, "SW1A 1AA"), kSw1a1aa);
}

TEST(Hashing, CityAndStateLoseSpacesDigitsAndPunctuation) {
  EXPECT_EQ(HashIdentifier(IdentifierKind::kCity, "San Francisco"), kSanFrancisco);
  EXPECT_EQ(HashIdentifier(IdentifierKind::kCity, "san-francisco 1"), kSanFrancisco);
  EXPECT_EQ(HashIdentifier(IdentifierKind::kState, "CA"), kCa);
}

TEST(Hashing, CountryMustBeATwoLetterCode) {
  EXPECT_EQ(HashIdentifier(IdentifierKind::kCountry, " US "), kUs);
  EXPECT_EQ(HashIdentifier(IdentifierKind::kCountry, "USA"), "");
  EXPECT_EQ(HashIdentifier(IdentifierKind::kCountry, "U1"), "");
  // A value that already is a digest passes through, as for every kind.
  EXPECT_EQ(HashIdentifier(IdentifierKind::kCountry, kUs), kUs);
}

}  // namespace touchpoint::ingest
