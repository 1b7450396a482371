# pragma version 0.4.3
"""
@title SlaTemplates
@custom:contract-name SlaTemplates
@license Apache-2.0
@notice The SLA templates the members adopted: the numbers the contracts compute credits
        from, and a commitment to the full template document kept off chain.
@dev Adopted and retired only by the Timelock (ADOPT_SLA_TEMPLATE / RETIRE_SLA_TEMPLATE
     proposals). The same checks run at proposal time (`validate`, called by the platform
     before it proposes) and at adoption, so a malformed template can neither be proposed
     through the platform nor adopted by anyone.

     Credit tiers read: "availability below `floor_ppm` earns `credit_bps` of the monthly
     recurring charge". Floors fall strictly from tier to tier and credits rise strictly,
     so the lowest floor the measured availability is below decides the credit.
"""

# @dev Availability is measured in parts per million: 99.95 % = 999_500.
PPM: constant(uint256) = 1_000_000
# @dev Credits are basis points of the monthly recurring charge: 100 % = 10_000.
MAX_CREDIT_BPS: constant(uint256) = 10_000
MAX_TIERS: constant(uint256) = 8
MAX_NAME_LENGTH: constant(uint256) = 64
# @dev Metrics the contracts can compute. Availability only, for now.
METRIC_AVAILABILITY: constant(uint8) = 0
# @dev Measurement periods. A calendar month (UTC), for now.
PERIOD_CALENDAR_MONTH: constant(uint8) = 0


struct Tier:
    floor_ppm: uint256
    credit_bps: uint256


struct Template:
    name: String[MAX_NAME_LENGTH]
    version: uint256
    document: bytes32  # salted keccak256 commitment of the full template document
    metric: uint8
    objective_ppm: uint256
    measurement_period: uint8
    tiers: DynArray[Tier, MAX_TIERS]
    resolution_window: uint256  # seconds a resolved ticket waits for the buyer before it is deemed closed
    exclude_planned_maintenance: bool
    adopted_at: uint256
    retired_at: uint256  # 0 = in force


event TemplateAdopted:
    template_id: indexed(uint256)
    name: String[MAX_NAME_LENGTH]
    version: uint256
    document: bytes32


event TemplateRetired:
    template_id: indexed(uint256)


# @notice The Timelock: the only address that adopts and retires templates.
timelock: public(immutable(address))
templates: HashMap[uint256, Template]
template_count: public(uint256)
# @notice How many versions of each template name were adopted.
latest_version: public(HashMap[String[MAX_NAME_LENGTH], uint256])


@deploy
def __init__(_timelock: address):
    """
    @notice Create the register of templates.
    @param _timelock The address allowed to adopt and retire templates.
    """
    assert _timelock != empty(address), "SlaTemplates: zero timelock"
    timelock = _timelock


@external
@view
def validate(
    name: String[MAX_NAME_LENGTH],
    document: bytes32,
    metric: uint8,
    objective_ppm: uint256,
    measurement_period: uint8,
    tiers: DynArray[Tier, MAX_TIERS],
    resolution_window: uint256,
    exclude_planned_maintenance: bool,
) -> bool:
    """
    @notice Check a template; reverts with the reason when it is malformed.
    @dev The arguments are those of `adopt`.
    @return True for a well-formed template.
    """
    self._validate(name, document, metric, objective_ppm, measurement_period, tiers)
    return True


@external
def adopt(
    name: String[MAX_NAME_LENGTH],
    document: bytes32,
    metric: uint8,
    objective_ppm: uint256,
    measurement_period: uint8,
    tiers: DynArray[Tier, MAX_TIERS],
    resolution_window: uint256,
    exclude_planned_maintenance: bool,
) -> uint256:
    """
    @notice Adopt a template. Only the Timelock, after the members' vote.
    @param name The template's name; adopting a name again makes a new version.
    @param document Salted commitment of the full template document.
    @param metric METRIC_AVAILABILITY.
    @param objective_ppm The objective, in parts per million (99.95 % = 999_500).
    @param measurement_period PERIOD_CALENDAR_MONTH.
    @param tiers Credit tiers, floors falling and credits rising.
    @param resolution_window Seconds after which a resolved ticket is deemed closed.
    @param exclude_planned_maintenance Whether planned maintenance counts as outage.
    @return The new template's id (1, 2, ...).
    """
    assert msg.sender == timelock, "SlaTemplates: only the timelock"
    self._validate(name, document, metric, objective_ppm, measurement_period, tiers)
    template_id: uint256 = self.template_count + 1
    self.template_count = template_id
    version: uint256 = self.latest_version[name] + 1
    self.latest_version[name] = version
    self.templates[template_id] = Template(
        name=name,
        version=version,
        document=document,
        metric=metric,
        objective_ppm=objective_ppm,
        measurement_period=measurement_period,
        tiers=tiers,
        resolution_window=resolution_window,
        exclude_planned_maintenance=exclude_planned_maintenance,
        adopted_at=block.timestamp,
        retired_at=0,
    )
    log TemplateAdopted(template_id=template_id, name=name, version=version, document=document)
    return template_id


@external
def retire(template_id: uint256):
    """
    @notice Retire a template: no new offerings or orders may use it. Only the Timelock.
    @dev Services already under it keep it; their credits still follow it.
    @param template_id The template.
    """
    assert msg.sender == timelock, "SlaTemplates: only the timelock"
    assert self._in_force(template_id), "SlaTemplates: not in force"
    self.templates[template_id].retired_at = block.timestamp
    log TemplateRetired(template_id=template_id)


@external
@view
def template(template_id: uint256) -> Template:
    """
    @notice A template, in force or retired.
    @param template_id The template.
    @return The template (empty name when unknown).
    """
    return self.templates[template_id]


@external
@view
def is_adopted(template_id: uint256) -> bool:
    """
    @notice Whether a template is adopted and not retired.
    @param template_id The template.
    @return True when in force.
    """
    return self._in_force(template_id)


@internal
@view
def _in_force(template_id: uint256) -> bool:
    return self.templates[template_id].adopted_at != 0 and self.templates[template_id].retired_at == 0


@internal
@pure
def _validate(
    name: String[MAX_NAME_LENGTH],
    document: bytes32,
    metric: uint8,
    objective_ppm: uint256,
    measurement_period: uint8,
    tiers: DynArray[Tier, MAX_TIERS],
):
    assert len(name) > 0, "SlaTemplates: empty name"
    assert document != empty(bytes32), "SlaTemplates: no document commitment"
    assert metric == METRIC_AVAILABILITY, "SlaTemplates: unknown metric"
    assert measurement_period == PERIOD_CALENDAR_MONTH, "SlaTemplates: unknown measurement period"
    assert objective_ppm > 0, "SlaTemplates: zero objective"
    assert objective_ppm <= PPM, "SlaTemplates: objective over 100 %"
    assert len(tiers) > 0, "SlaTemplates: no credit tiers"
    previous_floor: uint256 = objective_ppm + 1  # the first floor may equal the objective
    previous_credit: uint256 = 0
    for tier: Tier in tiers:
        assert tier.floor_ppm < previous_floor, "SlaTemplates: tier floors must fall and not exceed the objective"
        assert tier.credit_bps > previous_credit, "SlaTemplates: credits must rise as availability falls"
        assert tier.credit_bps <= MAX_CREDIT_BPS, "SlaTemplates: credit over 100 % of MRC"
        previous_floor = tier.floor_ppm
        previous_credit = tier.credit_bps
