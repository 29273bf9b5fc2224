"""The report's words in Korean and English.

The report is a document for a court, not part of the portal: its wording is fixed here, reviewed as a
whole in both languages, rather than assembled from the portal's message catalogue.
"""


class Strings(dict[str, str]):
    """One language's strings; a missing key is a programming error, so ``[]`` raises."""

    def paragraph_keys(self, prefix: str) -> list[str]:
        return sorted(k for k in self if k.startswith(prefix))


EN = Strings(
    report_title="Digital evidence examination report",
    development_warning=(
        "SIGNED WITH A DEVELOPMENT CERTIFICATE — NOT FOR COURT. This report was signed with the self-signed "
        "development signer that Haetae creates when no agency certificate is configured. Its signature "
        "proves nothing about who issued it."
    ),
    report_id="Report ID",
    case_number="Case number",
    case_title="Case",
    offences="Offences",
    unit="Investigating unit",
    jurisdiction="Prosecutors' office",
    examiner="Examiner",
    reviewer="Reviewer",
    generated_at="Date and time",
    scope="Scope",
    scope_value="{exhibits} exhibit(s), {items} item(s): {numbers}",
    signer="Signing certificate",
    language="Language",
    language_name="English",
    qualification="qualification",
    organisation_roles="Haetae roles",
    qualification_not_recorded="not recorded in Haetae",
    qualification_training="training",
    qualification_certifications="certifications",
    qualification_recorded="as recorded in Haetae on {date}",
    role_lead_investigator="lead investigator",
    role_supervisor="supervisor (approved exhibits)",
    not_recorded="not recorded",
    none_recorded="none recorded",
    no_reviewer="no exhibit in scope has been approved by a supervisor",
    cover_note=(
        "Victims appear in this report only by pseudonym (V-1, V-2, …). Images appear only as blurred "
        "previews derived from the evidence (labelled derivatives, not evidence). Detector findings are "
        "investigative leads, not conclusions, and are kept apart from the investigator's opinion. Every "
        "hash, custody event and checkpoint below can be checked without trusting Haetae's server: see "
        "'Limitations and method' and the embedded manifest."
    ),
    latest_checkpoint=(
        "Newest signed ledger checkpoint when the report was made: #{id}, {size} events, root {root}, "
        "Ed25519 key {key}, signed {at}."
    ),
    exhibit_list="Exhibit list",
    col_number="No.",
    col_status="Status",
    col_description="Description",
    col_items="Items",
    col_approved="Approved",
    not_approved="not approved",
    status_draft="draft",
    status_pending="awaiting approval",
    status_approved="approved by a supervisor",
    status_shared="shared with the prosecutor",
    status_withdrawn="withdrawn",
    exhibit_heading="Exhibit {number}",
    created="Drafted",
    description="Description",
    item_heading="{exhibit} · item {item} · {name}",
    thumbnail_caption=(
        "Blurred preview — derived from the evidence, not evidence; never the original. It lets the reader "
        "tell items apart without showing what they depict. Derived image SHA-256 {sha256}."
    ),
    no_thumbnail="No preview: {reason}.",
    source_acquisition="Source and acquisition",
    acquired_by="Acquired by",
    acquired_at="Acquired at",
    location="Where",
    source="Source",
    legal_authority="Legal authority",
    seizure_reference="Seizure reference",
    seals="Seal numbers",
    participants="Participants present",
    acquisition_tool="Acquisition tool",
    trusted_time="Trusted time of the acquisition manifest (RFC 3161)",
    no_trusted_timestamp="no trusted timestamp (no timestamp authority was configured or answered)",
    captured_page="Captured web page (address asked for → reached, server, start – end)",
    hashes="Hash values",
    col_algorithm="Algorithm",
    col_value="Value",
    col_taken_at="Taken at",
    col_tool="Tool and version",
    file_metadata="File metadata",
    source_records="Where the file was found (messenger export or extraction report)",
    col_source_kind="Source",
    col_source_place="Message or device path",
    col_sent_at="Sent",
    col_source_file="Parsed from",
    acquisition_short="acquisition",
    item_short="item",
    report_hash_agrees="the extraction report's hash agrees",
    report_hash_differs="the extraction report's hash DIFFERS (recorded discrepancy)",
    original_path="Original path",
    kind="Kind",
    kind_file="file",
    kind_archive_member="archive member",
    kind_upload="upload",
    size="Size",
    bytes="{n} bytes",
    mime="Type (MIME)",
    file_times="File timestamps",
    time_modified="modified",
    time_accessed="accessed",
    time_changed="changed",
    time_created="created",
    time_capture="captured (EXIF, as the file claims)",
    time_capture_zone_unknown="captured (EXIF, as the file claims; no time zone in the file)",
    time_digitised="digitised (EXIF, as the file claims)",
    time_digitised_zone_unknown="digitised (EXIF, as the file claims; no time zone in the file)",
    findings="Detector findings",
    lead_label=(
        "Each finding below is an investigative lead — not a conclusion. It records what a named tool "
        "version reported; it is not the investigator's opinion and proves nothing alone."
    ),
    lead_short="investigative lead — not a conclusion",
    col_detector="Detector and version",
    col_version="Version",
    col_model_sha256="Model SHA-256",
    col_threshold="Threshold",
    col_label="Label",
    col_score="Score",
    col_error_rate="Known error rate / validation",
    col_review="Review",
    no_model="no model file",
    no_threshold="none declared",
    review_lead="lead, not reviewed",
    review_confirmed="confirmed by an investigator",
    review_rejected="rejected by an investigator",
    no_findings="No detector findings were recorded for this item.",
    provenance="Provenance (C2PA Content Credentials)",
    c2pa_state="Manifest",
    c2pa_validation="Validation",
    c2pa_signer="Signer",
    c2pa_source_type="digitalSourceType",
    c2pa_detector="Read by",
    c2pa_meaning="Meaning",
    c2pa_none="absent",
    c2pa_trusted="present, validates, trusted signer",
    c2pa_valid="present, validates, signer not trusted",
    c2pa_invalid="present, fails validation",
    c2pa_not_checked="C2PA was not checked for this item.",
    c2pa_absent_not_probative=(
        "No C2PA manifest — absence is not probative: most software writes none and re-encoding removes "
        "it, so absence shows neither authenticity nor manipulation."
    ),
    opinion="Investigator's opinion",
    opinion_note=(
        "The investigator's own reading, kept apart from the detector findings above; it is not the "
        "output of any tool."
    ),
    no_opinion="No opinion recorded.",
    custody="Chain of custody",
    col_seq="Event",
    col_time="Time",
    col_action="Action",
    col_actor="By (role)",
    col_event_hash="Event hash (leaf) / previous",
    col_checkpoint="Included in checkpoint",
    col_signed_at="Signed at",
    col_root="Merkle root",
    col_signature="Ed25519 signature",
    prev="prev",
    root="root",
    key="key",
    checkpoint_ref="#{id} (size {size})",
    not_yet_signed="not yet in a signed checkpoint",
    hash_certificate="Hash certificate",
    hash_certificate_ko_title="(해시값 확인서)",
    hash_certificate_intro=(
        "For every item in scope, the values recorded when it was acquired are set against the values "
        "computed by reading the stored bytes back from the vault at {at}, each chunk authenticated "
        "(AES-256-GCM) and the whole re-hashed."
    ),
    col_exhibit_item="Exhibit / item",
    col_at_acquisition="At acquisition",
    col_now="Now (re-computed)",
    col_match="Match",
    exhibit_timeline="Timeline of the exhibit's items",
    exhibit_timeline_note=(
        "Every dated thing about the items above on one axis, oldest first: acquisition, file system times, "
        "EXIF capture times, message dates, captures, posting times of confirmed channel links and "
        "RFC 3161 times. Each row says where its time came from and how far it can be trusted: file system "
        "times change when a file is copied and are not capture times; EXIF times are claimed by the file "
        "and editable. The custody events are listed under each item."
    ),
    no_timeline="No dated points for these items.",
    col_kind="Kind",
    col_item="Item",
    col_what="What",
    col_time_source="Where the time came from",
    col_trust="Trust",
    as_written="as written",
    zone_unknown="time zone unknown",
    match_yes="match",
    match_no="MISMATCH",
    declaration="Declaration",
    declaration_text=(
        "I certify that the {rows} hash values above were computed by the process described in this report "
        "and recorded in the custody ledger when each item was acquired, and that re-computing them from "
        "the stored data at {at} gave {result}. The data was copied by a process of digital identification "
        "(SHA-256, with MD5 and SHA-1 for interchange) and is a true and complete copy of what was acquired "
        "(in the manner of US Federal Rule of Evidence 902(14) and of a Korean 해시값 확인서)."
    ),
    all_match="the same values for every item: they match",
    some_mismatch="{n} value(s) that do not match",
    certifier="Certifier",
    certified_at="Certified at",
    signature_line="Signature",
    signature_line_value="by the digital signature of this document (PAdES)",
    limitations="Limitations and method",
    limitation_01_integrity=(
        "Integrity: each item's SHA-256, MD5 and SHA-1 were computed in one pass while it was read at "
        "acquisition, before it was stored encrypted (AES-256-GCM, a key per object). Every read checks each "
        "chunk's authentication tag and the SHA-256 of the whole. Equal hashes show the bytes are the same "
        "bytes that were acquired; they say nothing about how those bytes came to exist."
    ),
    limitation_02_custody=(
        "Custody: every action on an item is an event in an append-only ledger. Each event's hash covers "
        "its fields and the previous event of the same item; every event is a leaf of one Merkle log whose "
        "root is signed in periodic checkpoints (Ed25519). With the embedded manifest, anyone can check an "
        "event's inclusion under a signed root and the consistency of later roots, without the server."
    ),
    limitation_03_detectors=(
        "Detectors: findings are outputs of the named tool version, model (by SHA-256) and threshold. "
        "Where no error rate was measured the table says 'not validated'. Detectors miss material and "
        "report false positives; new generators evade old detectors. A finding is an investigative lead "
        "— not a conclusion — until an investigator confirms it, and even then it is opinion evidence."
    ),
    limitation_04_provenance=(
        "Provenance: a C2PA manifest records what its signer's software declared and is only as "
        "trustworthy as that signer. Its absence is not probative. Watermark and metadata signals can be "
        "removed or forged."
    ),
    limitation_05_previews=(
        "Previews: images in this report are blurred previews (shrunk to 32 pixels, blurred, enlarged, "
        "blurred again), made so that nothing explicit can be recognised. They are derivatives, not "
        "evidence, and cannot be used to assess what an item depicts."
    ),
    limitation_06_people=(
        "People: victims are named only by pseudonym. Identities are held encrypted apart from the evidence "
        "and were checked against the text of this report before it was issued; none appears in it."
    ),
    limitation_07_time=(
        "Times are shown in the report's time zone with their UTC offset; they are stored in UTC. File "
        "timestamps are as the source file system reported them and can be altered by anyone who had the "
        "files before seizure."
    ),
    detectors_used="Detector versions in this report",
    validation_stated="stated: see “Detector versions in this report”",
    validation_measured="measured in Haetae: see “Detector versions in this report”",
    not_validated="not validated",
    validation_quoted=(
        "Each detector's known error rate or validation is quoted below (in English): as measured in Haetae "
        "on a labelled set where one was recorded (the newest validation of that version), otherwise as its "
        "authors state it."
    ),
    page_of="page {x} of {y}",
)

KO = Strings(
    report_title="디지털 증거 분석 보고서",
    development_warning=(
        "개발용 인증서로 서명됨 — 법정 제출용 아님. 기관 인증서가 설정되지 않아 Haetae가 만든 자체 서명 "
        "개발용 서명자로 서명된 보고서입니다. 이 서명은 발행자를 증명하지 않습니다. "
        "(SIGNED WITH A DEVELOPMENT CERTIFICATE — NOT FOR COURT)"
    ),
    report_id="보고서 ID",
    case_number="사건번호",
    case_title="사건명",
    offences="죄명",
    unit="수사부서",
    jurisdiction="관할 검찰청",
    examiner="분석관",
    reviewer="검토자",
    generated_at="작성 일시",
    scope="범위",
    scope_value="증거물 {exhibits}건, 항목 {items}건: {numbers}",
    signer="서명 인증서",
    language="언어",
    language_name="한국어",
    qualification="자격",
    organisation_roles="Haetae 역할",
    qualification_not_recorded="Haetae에 기록되지 않음",
    qualification_training="교육",
    qualification_certifications="자격증",
    qualification_recorded="{date} Haetae 기록 기준",
    role_lead_investigator="주무 수사관",
    role_supervisor="감독자 (증거물 승인)",
    not_recorded="기록 없음",
    none_recorded="기록 없음",
    no_reviewer="범위 내 증거물 중 감독자가 승인한 것이 없음",
    cover_note=(
        "피해자는 이 보고서에서 가명(V-1, V-2 …)으로만 표시됩니다. 이미지는 증거에서 파생된 흐림 처리 "
        "미리보기(증거가 아닌 파생물)로만 표시됩니다. 탐지기 결과는 수사 단서이며 결론이 아니고, 수사관의 "
        "의견과 분리되어 있습니다. 아래의 모든 해시값, 보관 이력 이벤트와 체크포인트는 Haetae 서버를 "
        "신뢰하지 않고도 검증할 수 있습니다('한계 및 방법'과 내장된 매니페스트 참조)."
    ),
    latest_checkpoint=(
        "보고서 작성 시 최신 서명 원장 체크포인트: #{id}, 이벤트 {size}건, 루트 {root}, Ed25519 키 {key}, "
        "서명 {at}."
    ),
    exhibit_list="증거물 목록",
    col_number="번호",
    col_status="상태",
    col_description="설명",
    col_items="항목",
    col_approved="승인",
    not_approved="미승인",
    status_draft="초안",
    status_pending="승인 대기",
    status_approved="감독자 승인",
    status_shared="검사에게 공유됨",
    status_withdrawn="철회됨",
    exhibit_heading="증거물 {number}",
    created="작성",
    description="설명",
    item_heading="{exhibit} · 항목 {item} · {name}",
    thumbnail_caption=(
        "흐림 처리 미리보기 — 증거에서 파생된 것으로 증거가 아니며, 원본이 아닙니다. 내용을 보여주지 않고 "
        "항목을 구별하기 위한 것입니다. 파생 이미지 SHA-256 {sha256}."
    ),
    no_thumbnail="미리보기 없음: {reason}.",
    source_acquisition="출처 및 수집",
    acquired_by="수집자",
    acquired_at="수집 일시",
    location="장소",
    source="출처",
    legal_authority="법적 근거",
    seizure_reference="압수 참조번호",
    seals="봉인 번호",
    participants="참여인",
    acquisition_tool="수집 도구",
    trusted_time="수집 매니페스트의 신뢰 시각 (RFC 3161)",
    no_trusted_timestamp="신뢰 타임스탬프 없음 (타임스탬프 기관이 설정되지 않았거나 응답하지 않음)",
    captured_page="수집한 웹 페이지 (요청 주소 → 도달 주소, 서버, 시작 – 종료)",
    hashes="해시값",
    col_algorithm="알고리즘",
    col_value="값",
    col_taken_at="산출 일시",
    col_tool="도구 및 버전",
    file_metadata="파일 메타데이터",
    source_records="발견 경위 (메신저 대화 내보내기 또는 추출 보고서)",
    col_source_kind="출처",
    col_source_place="메시지 또는 기기 내 경로",
    col_sent_at="전송 시각",
    col_source_file="분석 대상 파일",
    acquisition_short="수집",
    item_short="증거물",
    report_hash_agrees="추출 보고서의 해시값과 일치",
    report_hash_differs="추출 보고서의 해시값과 불일치 (기록된 불일치)",
    original_path="원래 경로",
    kind="종류",
    kind_file="파일",
    kind_archive_member="압축파일 내 파일",
    kind_upload="업로드",
    size="크기",
    bytes="{n} 바이트",
    mime="형식 (MIME)",
    file_times="파일 시각",
    time_modified="수정",
    time_accessed="접근",
    time_changed="변경",
    time_created="생성",
    time_capture="촬영 (EXIF, 파일이 주장하는 값)",
    time_capture_zone_unknown="촬영 (EXIF, 파일이 주장하는 값, 파일에 시간대 없음)",
    time_digitised="디지털화 (EXIF, 파일이 주장하는 값)",
    time_digitised_zone_unknown="디지털화 (EXIF, 파일이 주장하는 값, 파일에 시간대 없음)",
    findings="탐지기 결과",
    lead_label=(
        "아래의 각 결과는 수사 단서이며 결론이 아닙니다 (investigative lead — not a conclusion). 특정 도구 "
        "버전이 보고한 내용을 기록한 것이며, 수사관의 의견이 아니고 그 자체로 아무것도 증명하지 않습니다."
    ),
    lead_short="수사 단서 — 결론 아님",
    col_detector="탐지기 및 버전",
    col_version="버전",
    col_model_sha256="모델 SHA-256",
    col_threshold="임계값",
    col_label="라벨",
    col_score="점수",
    col_error_rate="알려진 오류율 / 검증",
    col_review="검토",
    no_model="모델 파일 없음",
    no_threshold="선언 없음",
    review_lead="단서, 미검토",
    review_confirmed="수사관 확인",
    review_rejected="수사관 기각",
    no_findings="이 항목에 기록된 탐지기 결과가 없습니다.",
    provenance="출처 정보 (C2PA 콘텐츠 자격증명)",
    c2pa_state="매니페스트",
    c2pa_validation="검증",
    c2pa_signer="서명자",
    c2pa_source_type="digitalSourceType",
    c2pa_detector="판독 도구",
    c2pa_meaning="의미",
    c2pa_none="없음",
    c2pa_trusted="있음, 검증됨, 신뢰된 서명자",
    c2pa_valid="있음, 검증됨, 신뢰되지 않은 서명자",
    c2pa_invalid="있음, 검증 실패",
    c2pa_not_checked="이 항목은 C2PA를 확인하지 않았습니다.",
    c2pa_absent_not_probative=(
        "C2PA 매니페스트 없음 — 부재는 증명력이 없습니다: 대부분의 소프트웨어는 매니페스트를 쓰지 않고 "
        "재인코딩하면 사라지므로, 부재는 진정성도 조작도 보여주지 않습니다 (not probative)."
    ),
    opinion="수사관 의견",
    opinion_note="위 탐지기 결과와 분리된 수사관 본인의 판단이며, 어떤 도구의 출력도 아닙니다.",
    no_opinion="기록된 의견 없음.",
    custody="보관 이력 (Chain of custody)",
    col_seq="이벤트",
    col_time="일시",
    col_action="행위",
    col_actor="행위자 (역할)",
    col_event_hash="이벤트 해시 (리프) / 이전",
    col_checkpoint="포함 체크포인트",
    col_signed_at="서명 일시",
    col_root="머클 루트",
    col_signature="Ed25519 서명",
    prev="이전",
    root="루트",
    key="키",
    checkpoint_ref="#{id} (크기 {size})",
    not_yet_signed="아직 서명된 체크포인트에 포함되지 않음",
    hash_certificate="해시값 확인서",
    hash_certificate_ko_title="(Hash certificate)",
    hash_certificate_intro=(
        "범위 내 모든 항목에 대해, 수집 시 기록된 값과 {at}에 보관소에서 저장된 데이터를 다시 읽어(각 "
        "블록 AES-256-GCM 인증) 다시 계산한 값을 대조합니다."
    ),
    col_exhibit_item="증거물 / 항목",
    col_at_acquisition="수집 시",
    col_now="현재 (재계산)",
    col_match="일치",
    exhibit_timeline="증거물 항목의 타임라인",
    exhibit_timeline_note=(
        "위 항목에 관한 모든 시각을 오래된 것부터 한 축에 배열합니다: 수집, 파일 시스템 시각, "
        "EXIF 촬영 시각, 메시지 일시, 웹 캡처, 확인된 채널 연결의 게시 시각, RFC 3161 시각. "
        "각 행은 시각의 출처와 신뢰 정도를 밝힙니다: 파일 시스템 시각은 파일을 복사하면 바뀌며 "
        "촬영 시각이 아니고, EXIF 시각은 파일이 주장하는 값으로 수정할 수 있습니다. "
        "보관 연속성 이벤트는 각 항목 아래에 있습니다."
    ),
    no_timeline="이 항목들에는 시각 기록이 없습니다.",
    col_kind="종류",
    col_item="항목",
    col_what="내용",
    col_time_source="시각의 출처",
    col_trust="신뢰도",
    as_written="기록된 형태",
    zone_unknown="시간대 알 수 없음",
    match_yes="일치",
    match_no="불일치",
    declaration="확인 및 선언",
    declaration_text=(
        "본인은 위 {rows}개의 해시값이 이 보고서에 기술된 절차로 산출되어 각 항목의 수집 시 보관 이력 원장에 "
        "기록되었고, {at}에 저장된 데이터로부터 다시 계산한 결과 {result}임을 확인합니다. 데이터는 디지털 "
        "식별 절차(SHA-256, 교환용 MD5 및 SHA-1)로 복제되었으며 수집된 것의 진정하고 완전한 사본입니다 "
        "(해시값 확인서 및 미국 연방증거규칙 902(14)의 방식에 따름)."
    ),
    all_match="모든 항목에서 같은 값으로 일치",
    some_mismatch="{n}개 값이 불일치",
    certifier="확인자",
    certified_at="확인 일시",
    signature_line="서명",
    signature_line_value="이 문서의 전자서명(PAdES)으로 갈음",
    limitations="한계 및 방법",
    limitation_01_integrity=(
        "무결성: 각 항목의 SHA-256, MD5, SHA-1은 수집 시 한 번 읽으면서 계산되었고, 그 후 암호화"
        "(AES-256-GCM, 객체별 키)되어 저장되었습니다. 모든 읽기는 각 블록의 인증 태그와 전체 SHA-256을 "
        "확인합니다. 해시값이 같다는 것은 수집된 것과 같은 데이터라는 뜻이며, 그 데이터가 어떻게 "
        "만들어졌는지는 말해주지 않습니다."
    ),
    limitation_02_custody=(
        "보관 이력: 항목에 대한 모든 행위는 추가만 가능한 원장의 이벤트입니다. 각 이벤트의 해시는 그 필드와 "
        "같은 항목의 이전 이벤트를 포함하며, 모든 이벤트는 하나의 머클 로그의 리프이고 그 루트는 주기적인 "
        "체크포인트에서 서명(Ed25519)됩니다. 내장된 매니페스트로 누구나 서버 없이 포함 증명과 일관성 증명을 "
        "검증할 수 있습니다."
    ),
    limitation_03_detectors=(
        "탐지기: 결과는 명시된 도구 버전, 모델(SHA-256), 임계값의 출력입니다. 오류율이 측정되지 않은 경우 "
        "'not validated'(검증되지 않음)로 표시합니다. 탐지기는 놓치기도 하고 오탐도 있으며, 새로운 생성기는 "
        "예전 탐지기를 회피합니다. 결과는 수사관이 확인하기 전까지 수사 단서(결론 아님)이며, 확인 후에도 "
        "의견 증거입니다."
    ),
    limitation_04_provenance=(
        "출처 정보: C2PA 매니페스트는 서명자의 소프트웨어가 선언한 것을 기록하며 그 서명자만큼만 신뢰할 수 "
        "있습니다. 부재는 증명력이 없습니다. 워터마크와 메타데이터는 제거되거나 위조될 수 있습니다."
    ),
    limitation_05_previews=(
        "미리보기: 이 보고서의 이미지는 흐림 처리 미리보기(32픽셀로 축소, 흐림, 확대, 다시 흐림)로, 노골적인 "
        "내용을 알아볼 수 없도록 만든 것입니다. 증거가 아닌 파생물이며 항목의 내용을 판단하는 데 쓸 수 "
        "없습니다."
    ),
    limitation_06_people=(
        "인물: 피해자는 가명으로만 표시됩니다. 신원 정보는 증거와 분리되어 암호화 보관되며, 보고서 발행 전 "
        "이 보고서의 문구와 대조하여 어떤 신원 정보도 포함되지 않았음을 확인했습니다."
    ),
    limitation_07_time=(
        "시각은 보고서의 시간대와 UTC 오프셋으로 표시하며 UTC로 저장됩니다. 파일 시각은 원래 파일 시스템이 "
        "보고한 그대로이며 압수 전 파일을 가졌던 누구든 바꿀 수 있습니다."
    ),
    detectors_used="이 보고서의 탐지기 버전",
    validation_stated="기재됨: ‘이 보고서의 탐지기 버전’ 참조",
    validation_measured="Haetae에서 측정됨: ‘이 보고서의 탐지기 버전’ 참조",
    not_validated="검증되지 않음",
    validation_quoted=(
        "각 탐지기의 알려진 오류율 또는 검증 내용을 아래에 인용합니다. Haetae에서 라벨링된 집합으로 "
        "측정한 검증이 기록된 경우 그 버전의 최신 검증을, 그렇지 않으면 제작자가 밝힌 원문(영어)을 "
        "그대로 인용합니다."
    ),
    page_of="{y}쪽 중 {x}쪽 (page {x} of {y})",
)

STRINGS: dict[str, Strings] = {"en": EN, "ko": KO}
