"""Masking log samples' messages (errors/messages.py, no database): samples that differ only
in numbers, hex ids, hosts, paths, datasets and times group together; different messages stay
apart. The texts are written as cmsRun and WMAgent write them."""

import pytest

from errors.messages import MESSAGE_CHARS, group_samples, mask, message_key, message_of

LFN_DIR = "/store/mc/RunIISummer20UL18RECO/TTToSemiLeptonic_TuneCP5_13TeV-powheg-pythia8/AODSIM/106X_v11-v2"


def file_read_8021(redirector: str, guid: str, lumi: int, event: int, stream: int, module: str) -> str:
    return (
        "An exception of category 'FileReadError' occurred while\n"
        f"   [0] Processing  Event run: 1 lumi: {lumi} event: {event} stream: {stream}\n"
        "   [1] Running path 'MINIAODSIMoutput_step'\n"
        "   [2] Prefetching for module PoolOutputModule/'MINIAODSIMoutput'\n"
        f"   [3] While reading from source {module} '' SIM\n"
        "   [4] Rethrowing an exception that happened on a different read request.\n"
        f"   [5] Processing  Event run: 1 lumi: {lumi} event: {event + 7} stream: {stream + 1}\n"
        "   [6] Reading branch recoGenParticles_genParticles__SIM.\n"
        "   Additional Info:\n"
        "      [a] Fatal Root Error: @SUB=TNetXNGFile::ReadBuffers\n"
        "[ERROR] Operation expired\n\n"
        "Exception Message:\n"
        f"Failed to read the file 'root://{redirector}/{LFN_DIR}/260000/{guid}.root'.\n"
    )


def wall_clock_50664(cores: int, limit: int, used: int) -> str:
    return (
        f"Error in CMSSW step cmsRun1\nNumber of Cores: {cores}\n"
        f"Job has exceeded maxWallTimeSecs: {limit}\nJob has WallTime: {used}\n"
    )


def fallback_8028(redirector: str, run: str, guid: str) -> str:
    lfn = f"/store/data/Run2023C/JetMET0/MINIAOD/PromptReco-v4/000/{run}/00000/{guid}.root"
    return (
        "An exception of category 'FallbackFileOpenError' occurred while\n"
        "   [0] Constructing the EventProcessor\n"
        "   [1] Constructing input source of type PoolSource\n"
        "Exception Message:\n"
        f"Failed to open the file 'root://{redirector}/{lfn}'\n"
        "   Additional Info:\n"
        f"      [a] Input file root://{redirector}/{lfn} could not be opened.\n"
        "      [b] Fatal Root Error: @SUB=TNetXNGFile::Open\n"
        "[FATAL] Redirect limit has been reached\n"
    )


def missing_file_84(lfn: str) -> str:
    return (
        "An exception of category 'FileOpenError' occurred while\n"
        "   [0] Constructing the EventProcessor\n"
        "   [1] Constructing input source of type PoolSource\n"
        "Exception Message:\n"
        f"Failed to open the file 'file:{lfn}'\n"
        "   Additional Info:\n"
        f"      [a] Input file file:{lfn} was not found, could not be opened, or is not a ROOT file.\n"
    )


def stage_out_71104(host: str, port: int, guid: str, proxy_uid: int, timeout: int, site: str) -> str:
    pfn = f"srm://{host}:{port}/srm/managerv2?SFN=/eos/cms/store/unmerged/RunIISummer20UL18/HIG/{guid}.root"
    return (
        f"StageOutFailure: Failed to stage out file {pfn} to {site}\n"
        f"Command: env -i X509_USER_PROXY=/srv/x509up_u{proxy_uid} gfal-copy -t {timeout} -T {timeout} -p "
        f"file:/srv/job/WMTaskSpace/cmsRun1/output.root {pfn}\n"
        f"Error: [gfal_srm_putdone][srm_xping] timeout after {timeout} s"
    )


def executor_99109(logged_at: str, thread: int, said_at: str, size: int, host: str) -> str:
    return (
        f"{logged_at}:{thread}:ERROR:StageOutMgr:Attempt 0 to stage out failed.\n"
        "Automatically retrying in 300 secs\n Error details:\n"
        "<@========== WMException Start ==========@>\nException Class: StageOutError\n"
        "Message: Command exited non-zero, ExitCode:60311\n"
        f"Output: stdout: {said_at}\n"
        f"Copying {size} bytes file:/srv/job/WMTaskSpace/cmsRun1/write_RAW.root => "
        f"davs://{host}:443/eos/cms/store/unmerged/x.root\n"
        "\tModuleName : WMCore.Storage.StageOutImpl\n"
        "\tFileName : /srv/job/WMCore.zip/WMCore/Storage/StageOutImpl.py\n"
        "\tLineNumber : 91\n"
        "<@---------- WMException End ----------@>"
    )


SAME_MESSAGE = {
    "8021 FileReadError, another redirector, file, event and module": (
        file_read_8021(
            "cmsxrootd.fnal.gov/",
            "2A3B4C5D-6E7F-8091-A2B3-C4D5E6F70819",
            18,
            17003,
            0,
            "GenEventInfoProduct generator",
        ),
        file_read_8021(
            "cms-xrd-global.cern.ch/",
            "9F8E7D6C-5B4A-3928-1706-F5E4D3C2B1A0",
            911,
            4521,
            3,
            "reco::GenJet ak4GenJets",
        ),
    ),
    "50664 wall clock, other cores and times": (
        wall_clock_50664(8, 172800, 173016),
        wall_clock_50664(4, 86400, 86412),
    ),
    "8028 fallback from two redirectors and runs": (
        fallback_8028("xrootd-cms.infn.it/", "367/770", "9f3c5a1e-0c2d-4b61-9a1d-2e5f3c7d8a9b"),
        fallback_8028("cms-xrd-global.cern.ch/", "368/224", "0b7d4c2e-1f3a-4a5b-8c9d-0e1f2a3b4c5d"),
    ),
    "84 missing file, two LFNs": (
        missing_file_84(
            "/eos/cms/store/data/Run2024F/Muon0/AOD/PromptReco-v1/000/382/216/00000/0a1b2c3d.root"
        ),
        missing_file_84("/store/data/Run2024G/EGamma1/AOD/PromptReco-v1/000/384/933/00001/ffee0011.root"),
    ),
    "71104 stage-out, other srm host, port, file, proxy and timeout": (
        stage_out_71104(
            "srm-eoscms.cern.ch", 8443, "5E6F7A8B-1234-ABCD-9876-0123456789AB", 12345, 2400, "T2_CH_CERN"
        ),
        stage_out_71104(
            "cmssrm.fnal.gov", 8443, "0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0", 5280, 3600, "T2_CH_CERN"
        ),
    ),
    "99109 timestamps in three formats, thread id, size and host": (
        executor_99109(
            "2024-06-12 10:15:03,512", 140234567890, "Thu Jun 13 04:20:11 UTC 2024", 2147483, "eoscms.cern.ch"
        ),
        executor_99109(
            "2024-07-01T23:59:59.001Z",
            139876543210,
            "Mon Jul  1 23:59:58 CEST 2024",
            1048576,
            "eosuser.cern.ch",
        ),
    ),
    "the site a message names (the group counts its sites)": (
        "Exit code 8001 at T2_IT_Pisa: see the agent logs",
        "Exit code 8001 at T1_US_FNAL_Disk: see the agent logs",
    ),
    "a dataset name": (
        "No files in /TTToSemiLeptonic_TuneCP5_13TeV-powheg-pythia8/RunIISummer20UL18MiniAODv2-106X_v16-v1/MINIAODSIM",
        "No files in /JetMET0/Run2023C-PromptReco-v4/MINIAOD",
    ),
    "hex ids, an IP address and a bare clock time": (
        "Job 3f2a9c1e7b00 lost at 0x7f3a9b2c from 188.184.1.2:1094 at 04:20:11",
        "Job a0b1c2d3e4f5 lost at 0x55d0c0ffee from 131.225.69.10:1094 at 17:02:59",
    ),
}


@pytest.mark.parametrize("first,second", SAME_MESSAGE.values(), ids=SAME_MESSAGE.keys())
def test_samples_that_differ_only_in_variable_parts_have_one_message(first, second):
    assert first != second
    assert message_of(first) == message_of(second)
    assert message_key(8021, message_of(first)) == message_key(8021, message_of(second))


def test_the_masked_message_keeps_what_explains_the_failure_and_hides_the_rest():
    read = message_of(SAME_MESSAGE["8021 FileReadError, another redirector, file, event and module"][0])
    assert read == (
        "An exception of category 'FileReadError' occurred while Additional Info: [a] Fatal Root Error: "
        "@SUB=TNetXNGFile::ReadBuffers [ERROR] Operation expired Exception Message: "
        "Failed to read the file '<path>'."
    )
    stage_out = message_of(SAME_MESSAGE["71104 stage-out, other srm host, port, file, proxy and timeout"][0])
    assert "srm-eoscms" not in stage_out and "8443" not in stage_out and "x509up" not in stage_out
    assert stage_out.startswith("StageOutFailure: Failed to stage out file <path> to <site> Command:")
    assert stage_out.endswith("timeout after <num> s")
    executor = message_of(SAME_MESSAGE["99109 timestamps in three formats, thread id, size and host"][0])
    assert executor.startswith("<time>:<num>:ERROR:StageOutMgr:Attempt <num> to stage out failed.")
    assert "Output: stdout: <time> Copying <num> bytes <path> => <path>" in executor
    assert "ExitCode:<num>" in executor and "WMCore.Storage.StageOutImpl" in executor
    assert message_of(SAME_MESSAGE["a dataset name"][0]) == "No files in <dataset>"
    assert message_of(SAME_MESSAGE["hex ids, an IP address and a bare clock time"][0]) == (
        "Job <hex> lost at <hex> from <host> at <time>"
    )
    assert mask("Job has RSS: 3125.4 MB at T2_CH_CERN, step cmsRun1 of Run2024F") == (
        "Job has RSS: <num> MB at <site>, step cmsRun1 of Run2024F"
    )


DIFFERENT = {
    "open vs read": (
        missing_file_84("/store/data/Run2024F/Muon0/AOD/PromptReco-v1/000/382/216/00000/0a1b2c3d.root"),
        missing_file_84("/store/data/x/y.root").replace("FileOpenError", "FileReadError"),
    ),
    "RSS vs PSS": ("Job has exceeded maxRSS: 2000 MB", "Job has exceeded maxPSS: 2000 MB"),
    "file open vs fallback": (
        missing_file_84("/store/a/b.root"),
        fallback_8028("xrootd-cms.infn.it/", "367/770", "9f3c5a1e-0c2d-4b61-9a1d-2e5f3c7d8a9b"),
    ),
    "timeout vs refused": ("Connection to eoscms.cern.ch timed out", "Connection to eoscms.cern.ch refused"),
}


@pytest.mark.parametrize("first,second", DIFFERENT.values(), ids=DIFFERENT.keys())
def test_different_messages_stay_apart(first, second):
    assert message_of(first) != message_of(second)


def test_one_message_under_two_exit_codes_is_two_groups():
    text = wall_clock_50664(8, 172800, 173016)
    groups = group_samples([(50664, "T2_CH_CERN", text), (50660, "T2_CH_CERN", text)])
    assert sorted(group.exit_code for group in groups) == [50660, 50664]
    assert message_key(50664, message_of(text)) != message_key(50660, message_of(text))


def test_masking_is_stable_on_its_own_output():
    for pair in SAME_MESSAGE.values():
        for text in pair:
            assert mask(message_of(text)) == message_of(text)


def test_a_long_log_is_cut_and_a_list_of_files_counts_as_one():
    long_log = "Adding last 25 lines of CMSSW stdout:\n" + "\n".join(
        f"line {i}: word{i % 7} text" for i in range(2000)
    )
    message = message_of(long_log)
    assert len(message) == MESSAGE_CHARS and message.endswith("…")
    assert mask("skipped /store/a/1.root, /store/a/2.root, /store/b/3.root") == mask(
        "skipped /store/a/1.root"
    )


def test_groups_count_samples_and_show_three_from_as_many_sites_as_there_are():
    rss = "Job has exceeded maxRSS: {} MB. Job has RSS: {} MB. Killing it."
    samples = [(50660, "T2_CH_CERN", rss.format(2000, 2000 + i)) for i in range(4)]
    samples += [
        (50660, "T1_US_FNAL", rss.format(4000, 4100)),
        (84, "T2_CH_CERN", missing_file_84("/store/x/y.root")),
    ]
    groups = group_samples(samples)
    assert [(group.exit_code, len(group.samples)) for group in groups] == [(50660, 5), (84, 1)]
    assert groups[0].message == "Job has exceeded maxRSS: <num> MB. Job has RSS: <num> MB. Killing it."
    assert groups[0].shown() == [0, 1, 4]  # the first CERN sample, the FNAL one, then the next CERN one
    assert groups[1].shown() == [5]
    assert group_samples([]) == []
