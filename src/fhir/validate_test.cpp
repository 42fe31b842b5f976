#include "fhir/validate.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "fhir/model.h"

namespace hb::fhir {
namespace {

Json parse(std::string_view text) {
  auto r = parse_json(text);
  EXPECT_TRUE(r.is_ok()) << r.status().to_string() << "\n" << text;
  return r.is_ok() ? std::move(r).value() : Json();
}

Status check(std::string_view text) { return validate_resource(parse(text)); }

std::string describe(const Status& s) {
  std::string out = s.message() + "\n";
  for (const Problem& p : s.problems())
    out += "  " + p.path + " [" + p.issue_type + "] " + p.message + "\n";
  return out;
}

// The status lists a problem at `path` with `issue_type`.
::testing::AssertionResult has_problem(const Status& s, std::string_view path,
                                       std::string_view issue_type) {
  if (s.is_ok())
    return ::testing::AssertionFailure() << "validation passed; expected a problem at " << path;
  if (s.code() != Code::kUnprocessable)
    return ::testing::AssertionFailure() << "code " << code_name(s.code());
  for (const Problem& p : s.problems()) {
    if (p.path == path && p.issue_type == issue_type) return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "no [" << issue_type << "] problem at " << path << " in\n"
                                       << describe(s);
}

// Exactly one problem, at `path` with `issue_type`.
::testing::AssertionResult only_problem(const Status& s, std::string_view path,
                                        std::string_view issue_type) {
  auto r = has_problem(s, path, issue_type);
  if (!r) return r;
  if (s.problems().size() != 1)
    return ::testing::AssertionFailure() << "more than one problem:\n" << describe(s);
  return ::testing::AssertionSuccess();
}

// A Patient with one extra member `member` (a "key": value text).
Status patient_with(std::string_view member) {
  return check(R"({"resourceType":"Patient",)" + std::string(member) + "}");
}

// An Observation (valid apart from `member`).
Status observation_with(std::string_view member) {
  return check(R"({"resourceType":"Observation","status":"final","code":{"text":"x"},)" +
               std::string(member) + "}");
}

// ---- the model ------------------------------------------------------------------------------

TEST(FhirModel, FindsTypesAndKeys) {
  const model::TypeDef* obs = model::find_type("Observation");
  ASSERT_NE(obs, nullptr);
  EXPECT_EQ(obs->kind, model::Kind::kResource);
  const model::KeyDef* vq = model::find_key(*obs, "valueQuantity");
  ASSERT_NE(vq, nullptr);
  EXPECT_EQ(model::name(model::type_of(*vq)), "Quantity");
  EXPECT_EQ(model::name(model::elem_of(*obs, *vq)), "value[x]");
  EXPECT_TRUE(model::elem_of(*obs, *vq).choice);
  EXPECT_EQ(model::find_key(*obs, "value[x]"), nullptr);
  EXPECT_EQ(model::find_key(*obs, "valueFoo"), nullptr);

  const model::KeyDef* status = model::find_key(*obs, "status");
  ASSERT_NE(status, nullptr);
  EXPECT_EQ(model::type_of(*status).prim, model::Prim::kCode);
  EXPECT_EQ(model::elem_of(*obs, *status).min, 1u);
  EXPECT_FALSE(model::is_array(model::elem_of(*obs, *status)));

  const model::KeyDef* component = model::find_key(*obs, "component");
  ASSERT_NE(component, nullptr);
  EXPECT_EQ(model::name(model::type_of(*component)), "Observation.component");
  EXPECT_EQ(model::type_of(*component).kind, model::Kind::kBackbone);
  EXPECT_TRUE(model::is_array(model::elem_of(*obs, *component)));

  EXPECT_EQ(model::find_type("Nope"), nullptr);
  ASSERT_NE(model::find_type("string"), nullptr);
  EXPECT_TRUE(model::is_primitive(*model::find_type("string")));
  EXPECT_TRUE(model::is_resource(*model::find_type("Resource")));
}

TEST(FhirModel, ResolvesContentReferences) {
  const model::TypeDef* item = model::find_type("Questionnaire.item");
  ASSERT_NE(item, nullptr);
  const model::KeyDef* nested = model::find_key(*item, "item");
  ASSERT_NE(nested, nullptr);
  EXPECT_EQ(&model::type_of(*nested), item);
}

TEST(FhirModel, ResourceIdIsAnIdAndElementIdAString) {
  const model::KeyDef* rid = model::find_key(*model::find_type("Patient"), "id");
  ASSERT_NE(rid, nullptr);
  EXPECT_EQ(model::type_of(*rid).prim, model::Prim::kId);
  const model::KeyDef* eid = model::find_key(*model::find_type("Coding"), "id");
  ASSERT_NE(eid, nullptr);
  EXPECT_EQ(model::type_of(*eid).prim, model::Prim::kString);
  const model::KeyDef* url = model::find_key(*model::find_type("Extension"), "url");
  ASSERT_NE(url, nullptr);
  EXPECT_EQ(model::type_of(*url).prim, model::Prim::kUri);
}

TEST(FhirValidate, KnowsResourceTypes) {
  EXPECT_TRUE(is_resource_type("Patient"));
  EXPECT_TRUE(is_resource_type("Observation"));
  EXPECT_TRUE(is_resource_type("Bundle"));
  EXPECT_TRUE(is_resource_type("VerificationResult"));
  EXPECT_FALSE(is_resource_type("Resource"));
  EXPECT_FALSE(is_resource_type("DomainResource"));
  EXPECT_FALSE(is_resource_type("CodeableConcept"));
  EXPECT_FALSE(is_resource_type("string"));
  EXPECT_FALSE(is_resource_type("Patient.contact"));
  EXPECT_FALSE(is_resource_type("patient"));
  EXPECT_FALSE(is_resource_type(""));
}

// ---- valid resources ----------------------------------------------------------------------

TEST(FhirValidate, DecimalsKeptAsSentAreNumbers) {
  // parse_fhir_json keeps 5.40 as its text; it validates as the decimal it is, and where a string
  // belongs it is reported as a number, not as a string with odd characters.
  auto obs = parse_fhir_json(
      R"({"resourceType":"Observation","status":"final","code":{"text":"x"},)"
      R"("valueQuantity":{"value":5.40,"unit":"mmol/L"}})");
  ASSERT_TRUE(obs.is_ok());
  EXPECT_TRUE(validate_resource(*obs).is_ok()) << describe(validate_resource(*obs));
  EXPECT_EQ(dump_json((*obs)["valueQuantity"]), R"({"unit":"mmol/L","value":5.40})");
  auto bad = parse_fhir_json(R"({"resourceType":"Patient","gender":1.5})");
  ASSERT_TRUE(bad.is_ok());
  Status s = validate_resource(*bad);
  EXPECT_TRUE(only_problem(s, "Patient.gender", "structure"));
  EXPECT_NE(s.problems()[0].message.find("not a number"), std::string::npos) << describe(s);
}

TEST(FhirValidate, MinimalResourcesPass) {
  EXPECT_TRUE(check(R"({"resourceType":"Patient"})").is_ok());
  Status s = check(R"({"resourceType":"Observation","status":"final","code":{"text":"weight"}})");
  EXPECT_TRUE(s.is_ok()) << describe(s);
}

TEST(FhirValidate, TypicalPatientPasses) {
  Status s = check(R"({
    "resourceType": "Patient", "id": "p-1.A",
    "meta": {"versionId": "3", "lastUpdated": "2024-05-01T10:30:00.123Z",
             "profile": ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient"]},
    "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">Ann</div>"},
    "extension": [{"url": "http://example.org/ext", "extension": [
        {"url": "a", "valueCoding": {"system": "urn:oid:2.16.840.1.113883.6.238", "code": "2106-3"}},
        {"url": "b", "valueString": "x"}]}],
    "identifier": [{"system": "urn:ietf:rfc:3986", "value": "urn:uuid:2b4f7a3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"}],
    "active": true,
    "name": [{"use": "official", "family": "Ng", "given": ["Ann", "Li"], "_given": [null, {"id": "g2", "extension": [{"url": "http://e.org/x", "valueBoolean": true}]}]}],
    "telecom": [{"system": "phone", "value": "+65 6123 4567", "rank": 1}],
    "gender": "female", "birthDate": "1970-02-28",
    "_birthDate": {"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/patient-birthTime", "valueDateTime": "1970-02-28T06:30:00+08:00"}]},
    "deceasedBoolean": false, "multipleBirthInteger": 2,
    "address": [{"line": ["1 Main St"], "city": "Singapore", "period": {"start": "2001"}}],
    "photo": [{"contentType": "image/png", "data": "aGVsbG8=", "size": 5}],
    "contact": [{"relationship": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0131", "code": "N"}]}],
                 "name": {"text": "Bo"}}],
    "communication": [{"language": {"text": "English"}, "preferred": true}],
    "managingOrganization": {"reference": "Organization/1"},
    "link": [{"other": {"reference": "Patient/2"}, "type": "seealso"}]
  })");
  EXPECT_TRUE(s.is_ok()) << describe(s);
}

TEST(FhirValidate, ChoiceTypesAndPrimitivesPass) {
  for (
      const char* member : {
          R"("valueQuantity":{"value":72.5,"unit":"kg","system":"http://unitsofmeasure.org","code":"kg"})",
          R"("valueQuantity":{"value":1e3})",
          R"("valueQuantity":{"value":-0.5})",
          R"("valueQuantity":{"value":3})",
          R"("valueString":"a\tb\nc")",
          R"("valueBoolean":false)",
          R"("valueInteger":-2147483648)",
          R"("valueTime":"23:59:60.5")",
          R"("valueDateTime":"2024")",
          R"("valueDateTime":"2024-02")",
          R"("valueDateTime":"2024-02-29")",
          R"("valueDateTime":"2024-02-29T23:59:59-14:00")",
          R"("valuePeriod":{"start":"2024-01-01T00:00:00Z"})",
          R"("issued":"2024-01-01T00:00:00.5+05:30")",
          R"("valueString":"x","_valueString":{"id":"a"})",
          R"("_valueString":{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/data-absent-reason","valueCode":"unknown"}]})",
          R"("valueSampledData":{"origin":{"value":0},"period":1.5,"dimensions":1,"data":"1 2 E"})",
      }) {
    Status s = observation_with(member);
    EXPECT_TRUE(s.is_ok()) << member << "\n" << describe(s);
  }
}

TEST(FhirValidate, RecursiveStructuresPass) {
  Status s = check(R"({"resourceType":"Questionnaire","status":"draft","item":[
    {"linkId":"1","type":"group","item":[{"linkId":"1.1","type":"string","item":[{"linkId":"1.1.1","type":"display","text":"hi"}]}]}]})");
  EXPECT_TRUE(s.is_ok()) << describe(s);
  s = check(R"({"resourceType":"Bundle","type":"collection","entry":[
    {"fullUrl":"urn:uuid:2b4f7a3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b","resource":{"resourceType":"Patient","id":"1"}},
    {"resource":{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Basic","code":{"text":"b"}}}]}},
    {"response":{"status":"200","outcome":{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"invalid"}]}}}]})");
  EXPECT_TRUE(s.is_ok()) << describe(s);
  s = check(
      R"({"resourceType":"Parameters","parameter":[{"name":"r","resource":{"resourceType":"Patient"}},
    {"name":"p","part":[{"name":"q","valueOid":"urn:oid:1.2.840.0.1","_valueOid":{"id":"q"}}]}]})");
  EXPECT_TRUE(s.is_ok()) << describe(s);
  s = check(R"({"resourceType":"Observation","status":"final","code":{"text":"x"},
    "contained":[{"resourceType":"Patient","id":"p1"}],"subject":{"reference":"#p1"}})");
  EXPECT_TRUE(s.is_ok()) << describe(s);
}

// ---- problems ---------------------------------------------------------------------------------

TEST(FhirValidate, ResourceTypeMustBeKnownConcreteResource) {
  EXPECT_TRUE(only_problem(validate_resource(Json::array()), "", "structure"));
  EXPECT_TRUE(only_problem(validate_resource(Json("Patient")), "", "structure"));
  EXPECT_TRUE(only_problem(check(R"({"id":"1"})"), "resourceType", "required"));
  EXPECT_TRUE(only_problem(check(R"({"resourceType":7})"), "resourceType", "structure"));
  EXPECT_TRUE(only_problem(check(R"({"resourceType":"Foo"})"), "resourceType", "invalid"));
  EXPECT_TRUE(only_problem(check(R"({"resourceType":"Resource"})"), "resourceType", "invalid"));
  EXPECT_TRUE(
      only_problem(check(R"({"resourceType":"DomainResource"})"), "resourceType", "invalid"));
  EXPECT_TRUE(only_problem(check(R"({"resourceType":"CodeableConcept","text":"x"})"),
                           "resourceType", "invalid"));
  EXPECT_TRUE(
      only_problem(check(R"({"resourceType":"Patient.contact"})"), "resourceType", "invalid"));
}

TEST(FhirValidate, UnknownElements) {
  EXPECT_TRUE(only_problem(patient_with(R"("foo":1)"), "Patient.foo", "structure"));
  EXPECT_TRUE(only_problem(patient_with(R"("Active":true)"), "Patient.Active", "structure"));
  EXPECT_TRUE(only_problem(patient_with(R"("":true)"), "Patient.", "structure"));
  EXPECT_TRUE(
      only_problem(observation_with(R"("valueFoo":"x")"), "Observation.valueFoo", "structure"));
  EXPECT_TRUE(only_problem(observation_with(R"("value":"x")"), "Observation.value", "structure"));
  EXPECT_TRUE(
      only_problem(observation_with(R"("value[x]":"x")"), "Observation.value[x]", "structure"));
  Status s = check(R"({"resourceType":"Observation","status":"final",
      "code":{"coding":[{"system":"http://loinc.org"},{"sytem":"http://loinc.org","code":"1"}]}})");
  EXPECT_TRUE(only_problem(s, "Observation.code.coding[1].sytem", "structure"));
  // resourceType only belongs to resources; "_" only to primitives.
  EXPECT_TRUE(
      only_problem(observation_with(R"("valueQuantity":{"value":1,"resourceType":"Quantity"})"),
                   "Observation.valueQuantity.resourceType", "structure"));
  EXPECT_TRUE(only_problem(patient_with(R"("_name":{"id":"x"})"), "Patient._name", "structure"));
  EXPECT_TRUE(only_problem(patient_with(R"("_foo":{"id":"x"})"), "Patient._foo", "structure"));
  // Element.id and Extension.url are attributes; a resource's id is an element.
  EXPECT_TRUE(only_problem(
      patient_with(
          R"("maritalStatus":{"text":"x","_id":{"extension":[{"url":"http://e.org/x","valueCode":"c"}]}})"),
      "Patient.maritalStatus._id", "structure"));
  EXPECT_TRUE(only_problem(
      patient_with(R"("extension":[{"url":"http://e.org/x","valueCode":"c","_url":{"id":"u"}}])"),
      "Patient.extension[0]._url", "structure"));
  EXPECT_TRUE(
      patient_with(R"("id":"a","_id":{"extension":[{"url":"http://e.org/x","valueCode":"c"}]})")
          .is_ok());
}

TEST(FhirValidate, JsonKinds) {
  EXPECT_TRUE(only_problem(patient_with(R"("active":"true")"), "Patient.active", "structure"));
  EXPECT_TRUE(only_problem(patient_with(R"("active":1)"), "Patient.active", "structure"));
  EXPECT_TRUE(
      only_problem(patient_with(R"("birthDate":19700101)"), "Patient.birthDate", "structure"));
  EXPECT_TRUE(only_problem(patient_with(R"("name":{"family":"x"})"), "Patient.name", "structure"));
  EXPECT_TRUE(only_problem(patient_with(R"("gender":["male"])"), "Patient.gender", "structure"));
  EXPECT_TRUE(
      only_problem(patient_with(R"("maritalStatus":"M")"), "Patient.maritalStatus", "structure"));
  EXPECT_TRUE(only_problem(patient_with(R"("name":["Ann"])"), "Patient.name[0]", "structure"));
  EXPECT_TRUE(only_problem(patient_with(R"("name":[{"given":"Ann"}])"), "Patient.name[0].given",
                           "structure"));
  EXPECT_TRUE(only_problem(observation_with(R"("valueQuantity":{"value":"5"})"),
                           "Observation.valueQuantity.value", "structure"));
  EXPECT_TRUE(only_problem(observation_with(R"("valueInteger":1.5)"), "Observation.valueInteger",
                           "structure"));
  EXPECT_TRUE(only_problem(observation_with(R"("valueInteger":1.0)"), "Observation.valueInteger",
                           "structure"));
  EXPECT_TRUE(only_problem(observation_with(R"("valueInteger":"1")"), "Observation.valueInteger",
                           "structure"));
  EXPECT_TRUE(only_problem(
      check(
          R"({"resourceType":"Observation","status":"final","code":{"text":"x"},"contained":{"resourceType":"Patient"}})"),
      "Observation.contained", "structure"));
}

TEST(FhirValidate, IntegerRanges) {
  EXPECT_TRUE(only_problem(observation_with(R"("valueInteger":2147483648)"),
                           "Observation.valueInteger", "value"));
  EXPECT_TRUE(only_problem(observation_with(R"("valueInteger":-2147483649)"),
                           "Observation.valueInteger", "value"));
  EXPECT_TRUE(only_problem(observation_with(R"("valueInteger":18446744073709551615)"),
                           "Observation.valueInteger", "value"));
  EXPECT_TRUE(observation_with(R"("valueInteger":2147483647)").is_ok());
  EXPECT_TRUE(only_problem(patient_with(R"("telecom":[{"value":"1","rank":0}])"),
                           "Patient.telecom[0].rank", "value"));
  EXPECT_TRUE(only_problem(patient_with(R"("telecom":[{"value":"1","rank":-3}])"),
                           "Patient.telecom[0].rank", "value"));
  EXPECT_TRUE(patient_with(R"("telecom":[{"value":"1","rank":1}])").is_ok());
  EXPECT_TRUE(
      only_problem(patient_with(R"("photo":[{"size":-1}])"), "Patient.photo[0].size", "value"));
  EXPECT_TRUE(patient_with(R"("photo":[{"size":0}])").is_ok());
  // parse_json rejects 1e400; a Json built in code can still hold an infinity.
  Json inf = parse(
      R"({"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":1}})");
  inf["valueQuantity"]["value"] = std::numeric_limits<double>::infinity();
  EXPECT_TRUE(only_problem(validate_resource(inf), "Observation.valueQuantity.value", "value"));
}

TEST(FhirValidate, StringFormats) {
  struct Case {
    const char* member;
    const char* path;
  };
  for (const Case& c : std::vector<Case>{
           {R"("id":"a b")", "Patient.id"},
           {R"("id":"a_b")", "Patient.id"},
           {R"("id":"0123456789012345678901234567890123456789012345678901234567890123X")",
            "Patient.id"},
           {R"("birthDate":"2020-13-01")", "Patient.birthDate"},
           {R"("birthDate":"2021-02-29")", "Patient.birthDate"},
           {R"("birthDate":"2020-04-31")", "Patient.birthDate"},
           {R"("birthDate":"0000")", "Patient.birthDate"},
           {R"("birthDate":"20200101")", "Patient.birthDate"},
           {R"("birthDate":"2020-1-01")", "Patient.birthDate"},
           {R"("birthDate":"2020-01-01T10:00:00Z")", "Patient.birthDate"},
           {R"("deceasedDateTime":"2020-01-01T10:00:00")", "Patient.deceasedDateTime"},
           {R"("deceasedDateTime":"2020-01-01T10:00Z")", "Patient.deceasedDateTime"},
           {R"("deceasedDateTime":"2020-01-01T24:00:00Z")", "Patient.deceasedDateTime"},
           {R"("deceasedDateTime":"2020-01-01T10:00:00+14:30")", "Patient.deceasedDateTime"},
           {R"("deceasedDateTime":"2020-01-01T10:00:00.Z")", "Patient.deceasedDateTime"},
           {R"("deceasedDateTime":"2020-01-01 10:00:00Z")", "Patient.deceasedDateTime"},
           {R"("meta":{"lastUpdated":"2020-01-01"})", "Patient.meta.lastUpdated"},
           {R"("meta":{"lastUpdated":"2020-01-01T10:00:00"})", "Patient.meta.lastUpdated"},
           {R"("gender":" male")", "Patient.gender"},
           {R"("gender":"male ")", "Patient.gender"},
           {R"("gender":"ma  le")", "Patient.gender"},
           {R"("gender":"")", "Patient.gender"},
           {R"("implicitRules":"http://a b")", "Patient.implicitRules"},
           {R"("implicitRules":"")", "Patient.implicitRules"},
           {R"("photo":[{"data":"abc"}])", "Patient.photo[0].data"},
           {R"("photo":[{"data":"ab=c"}])", "Patient.photo[0].data"},
           {R"("photo":[{"data":"a*bc"}])", "Patient.photo[0].data"},
           {R"("photo":[{"data":"a==="}])", "Patient.photo[0].data"},
           {R"("photo":[{"url":"http://x y"}])", "Patient.photo[0].url"},
           {R"("name":[{"family":""}])", "Patient.name[0].family"},
           {R"("name":[{"family":"a\u0001b"}])", "Patient.name[0].family"},
           {R"("text":{"status":"generated","div":"hello"})", "Patient.text.div"},
           {R"("text":{"status":"generated","div":"<divx>"})", "Patient.text.div"},
           {R"("meta":{"profile":["http://a b"]})", "Patient.meta.profile[0]"},
       }) {
    EXPECT_TRUE(only_problem(patient_with(c.member), c.path, "value")) << c.member;
  }
  for (
      const Case& c : std::vector<Case>{
          {R"("valueTime":"25:00:00")", "Observation.valueTime"},
          {R"("valueTime":"10:00")", "Observation.valueTime"},
          {R"("valueTime":"10:00:00Z")", "Observation.valueTime"},
          {R"("valueString":"")", "Observation.valueString"},
          {R"("extension":[{"url":"http://e.org/x","valueOid":"1.2.3"}])",
           "Observation.extension[0].valueOid"},
          {R"("extension":[{"url":"http://e.org/x","valueOid":"urn:oid:3.1"}])",
           "Observation.extension[0].valueOid"},
          {R"("extension":[{"url":"http://e.org/x","valueOid":"urn:oid:1.02"}])",
           "Observation.extension[0].valueOid"},
          {R"("extension":[{"url":"http://e.org/x","valueOid":"urn:oid:1"}])",
           "Observation.extension[0].valueOid"},
          {R"("extension":[{"url":"http://e.org/x","valueUuid":"urn:uuid:2B4F7A3E-1C2D-4E5F-8A9B-0C1D2E3F4A5B"}])",
           "Observation.extension[0].valueUuid"},
          {R"("extension":[{"url":"http://e.org/x","valueUuid":"2b4f7a3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"}])",
           "Observation.extension[0].valueUuid"},
          {R"("extension":[{"url":"http://e.org/x","valueId":"a/b"}])",
           "Observation.extension[0].valueId"},
          {R"("extension":[{"url":"a b","valueBoolean":true}])", "Observation.extension[0].url"},
      }) {
    EXPECT_TRUE(only_problem(observation_with(c.member), c.path, "value")) << c.member;
  }
  EXPECT_TRUE(patient_with(R"("photo":[{"data":"YWJj ZGVm\nZ2g="}])").is_ok());
  EXPECT_TRUE(
      patient_with(R"("id":"0123456789012345678901234567890123456789012345678901234567890123")")
          .is_ok());
  EXPECT_TRUE(
      observation_with(R"("extension":[{"url":"http://e.org/x","valueOid":"urn:oid:2.16.0.840"}])")
          .is_ok());

  std::string big(1024 * 1024 + 1, 'a');
  EXPECT_TRUE(only_problem(patient_with(R"("name":[{"family":")" + big + "\"}]"),
                           "Patient.name[0].family", "value"));
  big.pop_back();
  EXPECT_TRUE(patient_with(R"("name":[{"family":")" + big + "\"}]").is_ok());
}

TEST(FhirValidate, EmptyValuesAndNulls) {
  EXPECT_TRUE(
      only_problem(patient_with(R"("maritalStatus":{})"), "Patient.maritalStatus", "structure"));
  EXPECT_TRUE(only_problem(patient_with(R"("name":[])"), "Patient.name", "structure"));
  EXPECT_TRUE(only_problem(patient_with(R"("name":[{}])"), "Patient.name[0]", "structure"));
  EXPECT_TRUE(only_problem(patient_with(R"("active":null)"), "Patient.active", "structure"));
  EXPECT_TRUE(only_problem(patient_with(R"("name":[null])"), "Patient.name[0]", "structure"));
  EXPECT_TRUE(only_problem(patient_with(R"("name":[{"given":["a",null]}])"),
                           "Patient.name[0].given[1]", "structure"));
  Status s = patient_with(R"("name":[{"given":["a",null],"_given":[{"id":"x"},null]}])");
  EXPECT_TRUE(only_problem(s, "Patient.name[0].given[1]", "structure"));
  EXPECT_TRUE(
      only_problem(patient_with(R"("contained":[{}])"), "Patient.contained[0]", "structure"));
  EXPECT_TRUE(only_problem(patient_with(R"("maritalStatus":{"id":"x"})"), "Patient.maritalStatus",
                           "invalid"));
  Status ok = patient_with(
      R"("name":[{"given":[null,"b"],"_given":[{"extension":[{"url":"http://e.org/x","valueString":"a"}]},null]}])");
  EXPECT_TRUE(ok.is_ok()) << describe(ok);
}

TEST(FhirValidate, PrimitiveExtensions) {
  EXPECT_TRUE(
      patient_with(R"("_active":{"extension":[{"url":"http://e.org/x","valueBoolean":true}]})")
          .is_ok());
  EXPECT_TRUE(only_problem(patient_with(R"("_active":"x")"), "Patient._active", "structure"));
  EXPECT_TRUE(
      only_problem(patient_with(R"("_active":[{"id":"a"}])"), "Patient._active", "structure"));
  EXPECT_TRUE(only_problem(patient_with(R"("_active":{})"), "Patient._active", "structure"));
  EXPECT_TRUE(
      only_problem(patient_with(R"("_active":{"foo":1})"), "Patient._active.foo", "structure"));
  EXPECT_TRUE(only_problem(patient_with(R"("_active":{"extension":[{"url":"u"}]})"),
                           "Patient._active.extension[0]", "invalid"));
  EXPECT_TRUE(only_problem(patient_with(R"("name":[{"given":["a"],"_given":{"id":"x"}}])"),
                           "Patient.name[0]._given", "structure"));
  EXPECT_TRUE(only_problem(patient_with(R"("name":[{"given":["a","b"],"_given":[{"id":"x"}]}])"),
                           "Patient.name[0]._given", "structure"));
  EXPECT_TRUE(patient_with(R"("name":[{"given":["a"],"_given":[null]}])").is_ok());
  EXPECT_TRUE(only_problem(patient_with(R"("name":[{"_given":[null]}])"),
                           "Patient.name[0]._given[0]", "structure"));
  EXPECT_TRUE(patient_with(R"("name":[{"given":["a"],"_given":[{"id":"x"}]}])").is_ok());
  EXPECT_TRUE(only_problem(patient_with(R"("name":[{"given":["a"],"_given":[7]}])"),
                           "Patient.name[0]._given[0]", "structure"));
  EXPECT_TRUE(only_problem(patient_with(R"("name":[{"given":["a"],"_given":[]}])"),
                           "Patient.name[0]._given", "structure"));
  // _given without given: a list of extension-only values.
  EXPECT_TRUE(only_problem(
      patient_with(
          R"("name":[{"_given":[{"id":"x"},{"id":"y","extension":[{"url":"http://e.org/x","valueCode":"c"}]}]}])"),
      "Patient.name[0]._given[0]", "invalid"));  // an id alone, and no value: ele-1
  EXPECT_TRUE(only_problem(patient_with(R"("_active":{"id":"x"})"), "Patient._active", "invalid"));
  EXPECT_TRUE(patient_with(R"("active":true,"_active":{"id":"x"})").is_ok());
  EXPECT_TRUE(
      patient_with(
          R"("name":[{"_given":[{"extension":[{"url":"http://e.org/x","valueCode":"c"}]}]}])")
          .is_ok());
}

TEST(FhirValidate, ChoiceTypes) {
  EXPECT_TRUE(only_problem(observation_with(R"("valueString":"a","valueBoolean":true)"),
                           "Observation.valueString", "structure"));
  EXPECT_TRUE(only_problem(
      observation_with(
          R"("valueQuantity":{"value":1},"_valueString":{"id":"a","extension":[{"url":"http://e.org/x","valueCode":"c"}]})"),
      "Observation._valueString", "structure"));
  EXPECT_TRUE(only_problem(
      observation_with(R"("effectiveDateTime":"2020","effectiveInstant":"2020-01-01T00:00:00Z")"),
      "Observation.effectiveInstant", "structure"));
  EXPECT_TRUE(only_problem(observation_with(R"("valueQuantity":[{"value":1}])"),
                           "Observation.valueQuantity", "structure"));
}

TEST(FhirValidate, RequiredElements) {
  Status s = check(R"({"resourceType":"Observation"})");
  EXPECT_TRUE(has_problem(s, "Observation.status", "required"));
  EXPECT_TRUE(has_problem(s, "Observation.code", "required"));
  EXPECT_EQ(s.problems().size(), 2u) << describe(s);
  EXPECT_TRUE(only_problem(patient_with(R"("link":[{"type":"seealso"}])"), "Patient.link[0].other",
                           "required"));
  EXPECT_TRUE(only_problem(patient_with(R"("extension":[{"valueString":"x"}])"),
                           "Patient.extension[0].url", "required"));
  EXPECT_TRUE(only_problem(patient_with(R"("modifierExtension":[{"valueString":"x"}])"),
                           "Patient.modifierExtension[0].url", "required"));
  // A required choice element (UsageContext.value[x]) and a required backbone array.
  EXPECT_TRUE(only_problem(check(R"({"resourceType":"Library","status":"draft","type":{"text":"t"},
      "useContext":[{"code":{"code":"age"}}]})"),
                           "Library.useContext[0].value[x]", "required"));
  EXPECT_TRUE(only_problem(check(R"({"resourceType":"OperationOutcome"})"),
                           "OperationOutcome.issue", "required"));
  // A required primitive present only as an extension counts as present.
  EXPECT_TRUE(
      check(
          R"({"resourceType":"Observation","_status":{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/data-absent-reason","valueCode":"unknown"}]},"code":{"text":"x"}})")
          .is_ok());
}

TEST(FhirValidate, Cardinality) {
  EXPECT_TRUE(only_problem(patient_with(R"("active":[true])"), "Patient.active", "structure"));
  EXPECT_TRUE(only_problem(patient_with(R"("name":[{"family":["a","b"]}])"),
                           "Patient.name[0].family", "structure"));
  EXPECT_TRUE(only_problem(patient_with(R"("identifier":{"value":"1"})"), "Patient.identifier",
                           "structure"));
}

TEST(FhirValidate, Extensions) {
  EXPECT_TRUE(only_problem(
      patient_with(
          R"("extension":[{"url":"http://e.org/x","valueString":"a","extension":[{"url":"b","valueString":"c"}]}])"),
      "Patient.extension[0]", "invalid"));
  EXPECT_TRUE(only_problem(patient_with(R"("extension":[{"url":"http://e.org/x"}])"),
                           "Patient.extension[0]", "invalid"));
  EXPECT_TRUE(has_problem(patient_with(R"("extension":[{"url":"http://e.org/x","valueFoo":1}])"),
                          "Patient.extension[0]", "invalid"));
  EXPECT_TRUE(has_problem(patient_with(R"("extension":[{"url":"http://e.org/x","valueFoo":1}])"),
                          "Patient.extension[0].valueFoo", "structure"));
  EXPECT_TRUE(only_problem(
      patient_with(
          R"("extension":[{"url":"http://e.org/x","extension":[{"url":"a","valueCode":" x"}]}])"),
      "Patient.extension[0].extension[0].valueCode", "value"));
  EXPECT_TRUE(only_problem(patient_with(R"("name":[{"extension":[{"valueString":"x"}]}])"),
                           "Patient.name[0].extension[0].url", "required"));
  EXPECT_TRUE(
      only_problem(patient_with(R"("extension":{"url":"http://e.org/x","valueString":"a"})"),
                   "Patient.extension", "structure"));
}

TEST(FhirValidate, ContainedAndNestedResources) {
  EXPECT_TRUE(only_problem(patient_with(R"("contained":[{"resourceType":"Foo"}])"),
                           "Patient.contained[0].resourceType", "invalid"));
  EXPECT_TRUE(only_problem(patient_with(R"("contained":[{"id":"x"}])"),
                           "Patient.contained[0].resourceType", "required"));
  Status s = patient_with(R"("contained":[{"resourceType":"Observation","id":"o"}])");
  EXPECT_TRUE(has_problem(s, "Patient.contained[0].status", "required"));
  EXPECT_TRUE(has_problem(s, "Patient.contained[0].code", "required"));
  EXPECT_TRUE(
      only_problem(patient_with(R"("contained":[{"resourceType":"Patient","active":"yes"}])"),
                   "Patient.contained[0].active", "structure"));
  EXPECT_TRUE(only_problem(patient_with(R"("contained":["Patient"])"), "Patient.contained[0]",
                           "structure"));

  s = check(
      R"({"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Patient"}},
      {"resource":{"resourceType":"Patient","foo":1}}]})");
  EXPECT_TRUE(only_problem(s, "Bundle.entry[1].resource.foo", "structure"));
  s = check(
      R"({"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Bundle","type":"batch","entry":[
      {"resource":{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"a b"}]}}}]}}]})");
  EXPECT_TRUE(has_problem(s, "Bundle.type", "required"));
  EXPECT_TRUE(
      has_problem(s, "Bundle.entry[0].resource.entry[0].resource.code.coding[0].system", "value"));
  EXPECT_EQ(s.problems().size(), 2u) << describe(s);
  s = check(
      R"({"resourceType":"Bundle","type":"batch-response","entry":[{"response":{"status":"400",
      "outcome":{"resourceType":"Patient"}}}]})");
  EXPECT_TRUE(only_problem(s, "Bundle.entry[0].response.outcome.resourceType", "structure"));
  s = check(
      R"({"resourceType":"Parameters","parameter":[{"name":"a","resource":{"resourceType":"Unknown"}}]})");
  EXPECT_TRUE(only_problem(s, "Parameters.parameter[0].resource.resourceType", "invalid"));
  s = check(
      R"({"resourceType":"Parameters","parameter":[{"name":"a","part":[{"name":"b","valueDate":"x"}]}]})");
  EXPECT_TRUE(only_problem(s, "Parameters.parameter[0].part[0].valueDate", "value"));
}

TEST(FhirValidate, ReportsAllProblemsUpToACap) {
  Status s = check(R"({"resourceType":"Patient","id":"a b","active":"x","gender":"","foo":1,
      "name":[{"family":1,"given":[""]}],"birthDate":"1-1-1"})");
  EXPECT_EQ(s.problems().size(), 7u) << describe(s);
  EXPECT_TRUE(has_problem(s, "Patient.id", "value"));
  EXPECT_TRUE(has_problem(s, "Patient.active", "structure"));
  EXPECT_TRUE(has_problem(s, "Patient.gender", "value"));
  EXPECT_TRUE(has_problem(s, "Patient.foo", "structure"));
  EXPECT_TRUE(has_problem(s, "Patient.name[0].family", "structure"));
  EXPECT_TRUE(has_problem(s, "Patient.name[0].given[0]", "value"));
  EXPECT_TRUE(has_problem(s, "Patient.birthDate", "value"));

  Json many = parse(R"({"resourceType":"Patient"})");
  for (int i = 0; i < 500; ++i) many["name"].push_back(Json{{"family", i}});
  s = validate_resource(many);
  ASSERT_EQ(s.problems().size(), 100u);
  EXPECT_EQ(s.problems()[0].path, "Patient.name[0].family");
  EXPECT_EQ(s.problems()[98].path, "Patient.name[98].family");
  EXPECT_NE(s.problems()[99].message.find("too many problems"), std::string::npos);
}

TEST(FhirValidate, DeepHandBuiltTreesStopWithAProblem) {
  // parse_json limits nesting, but a Json built in code is not limited.
  Json patient = {{"resourceType", "Patient"}, {"extension", Json::array({Json::object()})}};
  Json* ext = &patient["extension"][0];
  for (int i = 0; i < 1000; ++i) {
    (*ext)["url"] = "u";
    ext = &(*ext)["extension"].emplace_back(Json::object());
  }
  (*ext)["url"] = "u";
  (*ext)["valueString"] = "v";
  Status s = validate_resource(patient);
  ASSERT_FALSE(s.is_ok());
  EXPECT_EQ(s.problems().size(), 1u) << describe(s);
  EXPECT_NE(s.problems()[0].message.find("too deep"), std::string::npos);
}

TEST(FhirValidate, StatusNamesTheFirstProblem) {
  Status s = patient_with(R"("foo":1)");
  EXPECT_EQ(s.code(), Code::kUnprocessable);
  EXPECT_NE(s.message().find("Patient.foo"), std::string::npos) << s.message();
}

// ---- real data ----------------------------------------------------------------------------------

struct Sample {
  std::string file;
  int line;
  std::string text;
  Json resource;
};

std::vector<Sample> load_synthea() {
  const char* root = std::getenv("HB_SOURCE_DIR");
  std::filesystem::path dir =
      std::filesystem::path(root != nullptr ? root : HB_SOURCE_DIR) / "tests/data/synthea-10";
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    // <Type>.NNN.ndjson; log.ndjson is the bulk-export event log, not FHIR.
    if (entry.path().extension() == ".ndjson" && entry.path().filename() != "log.ndjson") {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  std::vector<Sample> out;
  for (const auto& f : files) {
    std::ifstream in(f);
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
      ++n;
      if (line.empty()) continue;
      auto j = parse_json(line);
      EXPECT_TRUE(j.is_ok()) << f << ":" << n << ": " << j.status().to_string();
      if (j.is_ok()) out.push_back(Sample{f.filename().string(), n, line, std::move(j).value()});
    }
  }
  return out;
}

TEST(FhirValidate, EverySyntheaResourceIsValid) {
  std::vector<Sample> samples = load_synthea();
  ASSERT_GT(samples.size(), 7000u);
  int failures = 0;
  for (const Sample& s : samples) {
    Status st = validate_resource(s.resource);
    if (!st.is_ok() && ++failures <= 10)
      ADD_FAILURE() << s.file << ":" << s.line << "\n" << describe(st);
  }
  EXPECT_EQ(failures, 0);

  // A rough speed figure, overall and per file (not asserted: debug and sanitizer builds are much
  // slower, and the machine may be busy). Under AddressSanitizer it means little, so one round.
#if defined(__SANITIZE_ADDRESS__)
  const int rounds = 1;
#else
  const int rounds = 5;
#endif
  std::size_t ok = 0;
  double total_secs = 0;
  std::size_t total_bytes = 0;
  for (std::size_t begin = 0; begin < samples.size();) {
    std::size_t end = begin;
    std::size_t bytes = 0;
    while (end < samples.size() && samples[end].file == samples[begin].file) {
      bytes += samples[end].text.size();
      ++end;
    }
    auto start = std::chrono::steady_clock::now();
    for (int r = 0; r < rounds; ++r) {
      for (std::size_t i = begin; i < end; ++i)
        ok += validate_resource(samples[i].resource).is_ok() ? 1 : 0;
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("[ speed    ] %-32s %5zu resources, %6zu bytes avg: %8.0f resources/s\n",
                samples[begin].file.c_str(), end - begin, bytes / (end - begin),
                static_cast<double>((end - begin) * rounds) / secs);
    total_secs += secs;
    total_bytes += bytes;
    begin = end;
  }
  std::printf(
      "[ speed    ] all Synthea: %zu resources, %zu bytes avg: %.0f resources/s, %.0f MB/s\n",
      samples.size(), total_bytes / samples.size(),
      static_cast<double>(samples.size() * rounds) / total_secs,
      static_cast<double>(total_bytes * rounds) / total_secs / 1e6);
  EXPECT_EQ(ok, samples.size() * rounds);

  // As a server does it: parse one body, validate it while it is still in cache.
  double parse_secs = 0;
  double validate_secs = 0;
  for (int r = 0; r < rounds; ++r) {
    for (const Sample& s : samples) {
      auto t0 = std::chrono::steady_clock::now();
      auto j = parse_json(s.text);
      auto t1 = std::chrono::steady_clock::now();
      ok += validate_resource(*j).is_ok() ? 1 : 0;
      auto t2 = std::chrono::steady_clock::now();
      parse_secs += std::chrono::duration<double>(t1 - t0).count();
      validate_secs += std::chrono::duration<double>(t2 - t1).count();
    }
  }
  const auto n = static_cast<double>(samples.size() * rounds);
  std::printf(
      "[ speed    ] parse then validate: parse_json %.0f resources/s, validate_resource %.0f "
      "resources/s (%.2f us each)\n",
      n / parse_secs, n / validate_secs, validate_secs / n * 1e6);
  EXPECT_EQ(ok, 2 * samples.size() * rounds);
}

TEST(FhirValidate, MutatedSyntheaResourcesFail) {
  std::vector<Sample> samples = load_synthea();
  // Drop a required element, or add an unknown one, in one resource of every type.
  std::string last;
  int checked = 0;
  for (const Sample& s : samples) {
    if (s.file == last) continue;
    last = s.file;
    Json j = s.resource;
    j["notAnElement"] = true;
    const std::string type = j["resourceType"];
    EXPECT_TRUE(has_problem(validate_resource(j), type + ".notAnElement", "structure")) << s.file;
    ++checked;
  }
  EXPECT_GE(checked, 13);
  for (const Sample& s : samples) {
    if (s.resource["resourceType"] != "Encounter") continue;
    Json j = s.resource;
    j.erase("status");
    EXPECT_TRUE(only_problem(validate_resource(j), "Encounter.status", "required"));
    j = s.resource;
    j["class"] = Json::array({j["class"]});
    EXPECT_TRUE(only_problem(validate_resource(j), "Encounter.class", "structure"));
    break;
  }
}

}  // namespace
}  // namespace hb::fhir
