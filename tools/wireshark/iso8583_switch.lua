-- Wireshark/tshark dissector for the iso8583-switch appliance's traffic:
-- ISO 8583:1993 messages in the default (ASCII) profile, each behind a 2-byte
-- big-endian length (or 4 ASCII digits), one or more per UDP datagram on the
-- agents' datagram ports and as a stream on their TCP edge ports.
--
-- Wireshark's own iso8583 dissector reads these frames only with
-- `-o iso8583.len_endian:bigendian -o iso8583.binencode:bin`, over TCP only,
-- and the switches' ports 9201/9202 belong to WAP by default; this plugin
-- takes the ports it is given (preferences below) and needs no settings.
--
-- Use: copy to ~/.local/lib/wireshark/plugins/ (or pass
-- `-X lua_script:tools/wireshark/iso8583_switch.lua` to tshark). Filter with
-- `iso8583sw`, `iso8583sw.mti == "1100"`, `iso8583sw.de39 == "911"`.
-- Every element is shown as `iso8583 decode` prints it: text as sent, binary
-- elements as lowercase hex. docs/wireshark.md has examples.

local proto = Proto("iso8583sw", "ISO 8583:1993 (iso8583-switch)")

-- The data elements of ISO 8583:1993 as iso8583/iso8583_profiles.c has them
-- (class, length prefix digits with 0 for fixed, maximum, name): the test
-- tests/tools/test_wireshark.c decodes a message carrying all 128 with both.
local elements = {
	[1] = { "b", 0, 8, "Bitmap, secondary" },
	[2] = { "n", 2, 19, "Primary account number" },
	[3] = { "n", 0, 6, "Processing code" },
	[4] = { "n", 0, 12, "Amount, transaction" },
	[5] = { "n", 0, 12, "Amount, reconciliation" },
	[6] = { "n", 0, 12, "Amount, cardholder billing" },
	[7] = { "n", 0, 10, "Date and time, transmission" },
	[8] = { "n", 0, 8, "Amount, cardholder billing fee" },
	[9] = { "n", 0, 8, "Conversion rate, reconciliation" },
	[10] = { "n", 0, 8, "Conversion rate, cardholder billing" },
	[11] = { "n", 0, 6, "Systems trace audit number" },
	[12] = { "n", 0, 12, "Date and time, local transaction" },
	[13] = { "n", 0, 4, "Date, effective" },
	[14] = { "n", 0, 4, "Date, expiration" },
	[15] = { "n", 0, 6, "Date, settlement" },
	[16] = { "n", 0, 4, "Date, conversion" },
	[17] = { "n", 0, 4, "Date, capture" },
	[18] = { "n", 0, 4, "Merchant type" },
	[19] = { "n", 0, 3, "Country code, acquiring institution" },
	[20] = { "n", 0, 3, "Country code, primary account number" },
	[21] = { "n", 0, 3, "Country code, forwarding institution" },
	[22] = { "an", 0, 12, "Point of service data code" },
	[23] = { "n", 0, 3, "Card sequence number" },
	[24] = { "n", 0, 3, "Function code" },
	[25] = { "n", 0, 4, "Message reason code" },
	[26] = { "n", 0, 4, "Card acceptor business code" },
	[27] = { "n", 0, 1, "Approval code length" },
	[28] = { "n", 0, 6, "Date, reconciliation" },
	[29] = { "n", 0, 3, "Reconciliation indicator" },
	[30] = { "n", 0, 24, "Amounts, original" },
	[31] = { "ans", 2, 99, "Acquirer reference data" },
	[32] = { "n", 2, 11, "Acquiring institution identification code" },
	[33] = { "n", 2, 11, "Forwarding institution identification code" },
	[34] = { "ans", 2, 28, "Primary account number, extended" },
	[35] = { "z", 2, 37, "Track 2 data" },
	[36] = { "z", 3, 104, "Track 3 data" },
	[37] = { "an", 0, 12, "Retrieval reference number" },
	[38] = { "an", 0, 6, "Approval code" },
	[39] = { "n", 0, 3, "Action code" },
	[40] = { "n", 0, 3, "Service code" },
	[41] = { "ans", 0, 8, "Card acceptor terminal identification" },
	[42] = { "ans", 0, 15, "Card acceptor identification code" },
	[43] = { "ans", 2, 99, "Card acceptor name/location" },
	[44] = { "ans", 2, 99, "Additional response data" },
	[45] = { "ans", 2, 76, "Track 1 data" },
	[46] = { "ans", 3, 204, "Amounts, fees" },
	[47] = { "ans", 3, 999, "Additional data, national" },
	[48] = { "ans", 3, 999, "Additional data, private" },
	[49] = { "n", 0, 3, "Currency code, transaction" },
	[50] = { "n", 0, 3, "Currency code, reconciliation" },
	[51] = { "n", 0, 3, "Currency code, cardholder billing" },
	[52] = { "b", 0, 8, "Personal identification number (PIN) data" },
	[53] = { "b", 2, 48, "Security related control information" },
	[54] = { "ans", 3, 120, "Amounts, additional" },
	[55] = { "b", 3, 255, "Integrated circuit card system related data" },
	[56] = { "n", 2, 35, "Original data elements" },
	[57] = { "n", 0, 3, "Authorization life cycle code" },
	[58] = { "n", 2, 11, "Authorizing agent institution identification code" },
	[59] = { "ans", 3, 999, "Transport data" },
	[60] = { "ans", 3, 999, "Reserved for national use" },
	[61] = { "ans", 3, 999, "Reserved for national use" },
	[62] = { "ans", 3, 999, "Reserved for private use" },
	[63] = { "ans", 3, 999, "Reserved for private use" },
	[64] = { "b", 0, 8, "Message authentication code" },
	[65] = { "b", 0, 8, "Reserved for ISO use" },
	[66] = { "ans", 3, 204, "Amounts, original fees" },
	[67] = { "n", 0, 2, "Extended payment data" },
	[68] = { "n", 0, 3, "Country code, receiving institution" },
	[69] = { "n", 0, 3, "Country code, settlement institution" },
	[70] = { "n", 0, 3, "Country code, authorizing agent institution" },
	[71] = { "n", 0, 8, "Message number" },
	[72] = { "ans", 3, 999, "Data record" },
	[73] = { "n", 0, 6, "Date, action" },
	[74] = { "n", 0, 10, "Credits, number" },
	[75] = { "n", 0, 10, "Credits, reversal number" },
	[76] = { "n", 0, 10, "Debits, number" },
	[77] = { "n", 0, 10, "Debits, reversal number" },
	[78] = { "n", 0, 10, "Transfer, number" },
	[79] = { "n", 0, 10, "Transfer, reversal number" },
	[80] = { "n", 0, 10, "Inquiries, number" },
	[81] = { "n", 0, 10, "Authorizations, number" },
	[82] = { "n", 0, 10, "Inquiries, reversal number" },
	[83] = { "n", 0, 10, "Payments, number" },
	[84] = { "n", 0, 10, "Payments, reversal number" },
	[85] = { "n", 0, 10, "Fee collections, number" },
	[86] = { "n", 0, 16, "Credits, amount" },
	[87] = { "n", 0, 16, "Credits, reversal amount" },
	[88] = { "n", 0, 16, "Debits, amount" },
	[89] = { "n", 0, 16, "Debits, reversal amount" },
	[90] = { "n", 0, 10, "Authorizations, reversal number" },
	[91] = { "n", 0, 3, "Country code, transaction destination institution" },
	[92] = { "n", 0, 3, "Country code, transaction originator institution" },
	[93] = { "n", 2, 11, "Transaction destination institution identification code" },
	[94] = { "n", 2, 11, "Transaction originator institution identification code" },
	[95] = { "ans", 2, 99, "Card issuer reference data" },
	[96] = { "b", 3, 999, "Key management data" },
	[97] = { "an", 0, 17, "Amount, net reconciliation" },
	[98] = { "ans", 0, 25, "Payee" },
	[99] = { "an", 2, 11, "Settlement institution identification code" },
	[100] = { "n", 2, 11, "Receiving institution identification code" },
	[101] = { "ans", 2, 17, "File name" },
	[102] = { "ans", 2, 28, "Account identification 1" },
	[103] = { "ans", 2, 28, "Account identification 2" },
	[104] = { "ans", 3, 100, "Transaction description" },
	[105] = { "n", 0, 16, "Credits, chargeback amount" },
	[106] = { "n", 0, 16, "Debits, chargeback amount" },
	[107] = { "n", 0, 10, "Credits, chargeback number" },
	[108] = { "n", 0, 10, "Debits, chargeback number" },
	[109] = { "ans", 2, 84, "Credits, fee amounts" },
	[110] = { "ans", 2, 84, "Debits, fee amounts" },
	[111] = { "ans", 3, 999, "Reserved for ISO use" },
	[112] = { "ans", 3, 999, "Reserved for ISO use" },
	[113] = { "ans", 3, 999, "Reserved for ISO use" },
	[114] = { "ans", 3, 999, "Reserved for ISO use" },
	[115] = { "ans", 3, 999, "Reserved for ISO use" },
	[116] = { "ans", 3, 999, "Reserved for national use" },
	[117] = { "ans", 3, 999, "Reserved for national use" },
	[118] = { "ans", 3, 999, "Reserved for national use" },
	[119] = { "ans", 3, 999, "Reserved for national use" },
	[120] = { "ans", 3, 999, "Reserved for national use" },
	[121] = { "ans", 3, 999, "Reserved for national use" },
	[122] = { "ans", 3, 999, "Reserved for national use" },
	[123] = { "ans", 3, 999, "Reserved for private use" },
	[124] = { "ans", 3, 999, "Reserved for private use" },
	[125] = { "ans", 3, 999, "Reserved for private use" },
	[126] = { "ans", 3, 999, "Reserved for private use" },
	[127] = { "ans", 3, 999, "Reserved for private use" },
	[128] = { "b", 0, 8, "Message authentication code" },
}

local f_length = ProtoField.uint16("iso8583sw.length", "Message length")
local f_mti = ProtoField.string("iso8583sw.mti", "MTI")
local f_bitmap = ProtoField.string("iso8583sw.bitmap", "Primary bitmap")
local f_error = ProtoField.string("iso8583sw.error", "Decode error")
local f_de = {}
proto.fields = { f_length, f_mti, f_bitmap, f_error }
for f = 1, 128 do
	f_de[f] = ProtoField.string("iso8583sw.de" .. f, string.format("DE %d %s", f, elements[f][4]))
	table.insert(proto.fields, f_de[f])
end

local e_malformed = ProtoExpert.new("iso8583sw.malformed", "Malformed ISO 8583 message",
	expert.group.MALFORMED, expert.severity.ERROR)
proto.experts = { e_malformed }

proto.prefs.udp_ports = Pref.range("UDP ports", "9101-9102,9201-9202",
	"The agents' datagram ports (banks 9101-9102, switches 9201-9202 in config/ecosystem.yaml)", 65535)
proto.prefs.tcp_ports = Pref.range("TCP ports", "9111-9112,9211-9212",
	"The agents' TCP edge ports", 65535)
proto.prefs.ascii4 = Pref.bool("4 ASCII digit lengths", false,
	"Frames carry 4 ASCII digits of length (framing ascii4) instead of 2 bytes big-endian (binary2)")

local function header_size()
	return proto.prefs.ascii4 and 4 or 2
end

-- The length of the frame at offset, or nil when the header is not readable.
local function frame_length(tvb, offset)
	if proto.prefs.ascii4 then
		return tonumber(tvb:range(offset, 4):string())
	end
	return tvb:range(offset, 2):uint()
end

local function hex(range)
	return string.lower(tostring(range:bytes()))
end

-- Adds the elements of one message (no header) to tree; returns an error text or nil.
local function dissect_message(tvb, tree)
	local len = tvb:len()
	if len < 12 then
		return "shorter than an MTI and a bitmap"
	end
	tree:add(f_mti, tvb:range(0, 4))
	tree:add(f_bitmap, tvb:range(4, 8), hex(tvb:range(4, 8)))
	local pos = 12
	local present = {}
	local function take_bitmap(range, first)
		for i = 0, 63 do
			local byte = range:range(math.floor(i / 8), 1):uint()
			if bit.band(byte, bit.rshift(0x80, i % 8)) ~= 0 then
				present[#present + 1] = first + i
			end
		end
	end
	take_bitmap(tvb:range(4, 8), 1)
	for _, f in ipairs(present) do
		local spec = elements[f]
		local size = spec[3]
		if spec[2] > 0 then
			if pos + spec[2] > len then
				return string.format("DE %d: frame ends inside its length", f)
			end
			size = tonumber(tvb:range(pos, spec[2]):string())
			if size == nil or size > spec[3] then
				return string.format("DE %d: bad length prefix", f)
			end
			pos = pos + spec[2]
		end
		if pos + size > len then
			return string.format("DE %d: frame ends inside the element", f)
		end
		local range = tvb:range(pos, size)
		if spec[1] == "b" then
			tree:add(f_de[f], range, hex(range))
		else
			tree:add(f_de[f], range, range:string())
		end
		if f == 1 then
			take_bitmap(range, 65)
		end
		pos = pos + size
	end
	if pos ~= len then
		return string.format("%d bytes after the last element", len - pos)
	end
	return nil
end

-- One framed message at offset: its subtree; returns the frame's total size.
local function dissect_frame(tvb, pinfo, tree, offset, size)
	local body = tvb:range(offset + header_size(), size - header_size()):tvb()
	local subtree = tree:add(proto, tvb:range(offset, size))
	subtree:add(f_length, tvb:range(offset, header_size()), size - header_size())
	local problem = dissect_message(body, subtree)
	if problem then
		subtree:add(f_error, problem)
		subtree:add_proto_expert_info(e_malformed, problem)
	end
	local mti = body:len() >= 4 and body:range(0, 4):string() or "?"
	pinfo.cols.protocol = "ISO8583"
	pinfo.cols.info:append((offset == 0 and "" or ", ") .. mti)
	return size
end

-- UDP: a datagram holds whole frames, one after the other.
local function dissect_datagram(tvb, pinfo, tree)
	pinfo.cols.info:clear()
	local offset = 0
	while offset + header_size() <= tvb:len() do
		local n = frame_length(tvb, offset)
		if n == nil or offset + header_size() + n > tvb:len() then
			tree:add_proto_expert_info(e_malformed, "a frame runs past the end of the datagram")
			break
		end
		offset = offset + dissect_frame(tvb, pinfo, tree, offset, header_size() + n)
	end
	return offset
end

-- TCP: the same frames in a stream; Wireshark reassembles them.
local function tcp_frame_size(tvb, pinfo, offset)
	local n = frame_length(tvb, offset)
	return n and header_size() + n or 0
end

local function dissect_stream(tvb, pinfo, tree)
	pinfo.cols.info:clear()
	dissect_tcp_pdus(tvb, tree, header_size(), tcp_frame_size, function(pdu, p, t)
		return dissect_frame(pdu, p, t, 0, pdu:len())
	end)
	return tvb:len()
end

local PT_TCP = 2 -- enum port_type of epan/address.h

function proto.dissector(tvb, pinfo, tree)
	if pinfo.port_type == PT_TCP then
		return dissect_stream(tvb, pinfo, tree)
	end
	return dissect_datagram(tvb, pinfo, tree)
end

local registered_udp, registered_tcp
local function register_ports()
	local udp, tcp = DissectorTable.get("udp.port"), DissectorTable.get("tcp.port")
	if registered_udp then udp:remove(registered_udp, proto) end
	if registered_tcp then tcp:remove(registered_tcp, proto) end
	registered_udp, registered_tcp = proto.prefs.udp_ports, proto.prefs.tcp_ports
	udp:add(registered_udp, proto)
	tcp:add(registered_tcp, proto)
end

proto.prefs_changed = register_ports
register_ports()
