package lua

// hazlua: what a failed call tried to call, as Lua names it ("attempt to
// call field 'get' (a nil value)"), found from the bytecode: the
// instruction that last set the called register before the call (Lua's
// findsetreg) and what that instruction read (getobjname).

import "fmt"

// callErrorMessage is the error of calling lv, which is not callable, from
// the register base. When the current frame is a Lua function whose
// current instruction is that call, the message names what was called.
func (ls *LState) callErrorMessage(lv LValue, base int) string {
	if cf := ls.currentFrame; cf != nil && !cf.Fn.IsG && cf.Pc > 0 {
		p := cf.Fn.Proto
		pc := cf.Pc - 1
		inst := p.Code[pc]
		if op := opGetOpCode(inst); (op == OP_CALL || op == OP_TAILCALL) && cf.LocalBase+opGetArgA(inst) == base {
			if kind, name := objectName(p, pc, opGetArgA(inst)); kind != "" {
				return fmt.Sprintf("attempt to call %s '%s' (a %s value)", kind, name, lv.Type().String())
			}
		}
	}
	return fmt.Sprintf("attempt to call a %s value", lv.Type().String())
}

// objectName says what register reg held at the instruction lastpc of p:
// ("local", name), ("global", name), ("field", name), ("method", name),
// ("upvalue", name), or "" when it cannot tell.
func objectName(p *FunctionProto, lastpc, reg int) (kind, name string) {
	if name, ok := activeLocal(p, reg, lastpc); ok {
		return "local", name
	}
	pc := findSetReg(p, lastpc, reg)
	if pc < 0 {
		return "", ""
	}
	inst := p.Code[pc]
	a := opGetArgA(inst)
	switch opGetOpCode(inst) {
	case OP_MOVE, OP_MOVEN:
		if b := opGetArgB(inst); b < a {
			return objectName(p, pc, b)
		}
	case OP_GETGLOBAL:
		return "global", constantName(p, opRkAsk(opGetArgBx(inst)))
	case OP_GETTABLE, OP_GETTABLEKS:
		return "field", constantName(p, opGetArgC(inst))
	case OP_SELF:
		if reg == a {
			return "method", constantName(p, opGetArgC(inst))
		}
	case OP_GETUPVAL:
		if b := opGetArgB(inst); b < len(p.DbgUpvalues) {
			return "upvalue", p.DbgUpvalues[b]
		}
	}
	return "", ""
}

// activeLocal is the name of the local in register reg at pc. Unlike
// LFunction.LocalName, a local is active from its StartPc on (the first
// instruction after its declaration) to its EndPc (the last of its scope).
func activeLocal(p *FunctionProto, reg, pc int) (string, bool) {
	n := 0
	for _, l := range p.DbgLocals {
		if l.StartPc > pc {
			break
		}
		if pc <= l.EndPc {
			if n == reg {
				return l.Name, true
			}
			n++
		}
	}
	return "", false
}

// constantName is the string constant rk names, or "?".
func constantName(p *FunctionProto, rk int) string {
	if opIsK(rk) {
		if i := opIndexK(rk); i < len(p.Constants) {
			if s, ok := p.Constants[i].(LString); ok {
				return string(s)
			}
		}
	}
	return "?"
}

// findSetReg returns the pc of the last instruction before lastpc that set
// register reg, or -1 when there is none or it may have been skipped (it
// lies where a jump that does not skip lastpc jumps over). This is Lua
// 5.3's findsetreg on Lua 5.1's opcodes and gopher-lua's OP_MOVEN.
func findSetReg(p *FunctionProto, lastpc, reg int) int {
	setreg := -1
	jmptarget := 0 // code before this pc is conditional
	for pc := 0; pc < lastpc; pc++ {
		inst := p.Code[pc]
		a := opGetArgA(inst)
		change, skip := false, 0
		switch op := opGetOpCode(inst); op {
		case OP_LOADNIL:
			change = a <= reg && reg <= opGetArgB(inst)
		case OP_TFORLOOP:
			change = reg >= a+2
		case OP_CALL, OP_TAILCALL, OP_VARARG:
			change = reg >= a
		case OP_SELF:
			change = reg == a || reg == a+1
		case OP_JMP, OP_FORPREP:
			if dest := pc + 1 + opGetArgSbx(inst); dest <= lastpc && dest > jmptarget {
				jmptarget = dest
			}
		case OP_TEST:
			change = reg == a // the code it jumps over may change it
		case OP_FORLOOP:
			change = reg == a || reg == a+3
		case OP_CLOSURE:
			change = reg == a
			// its upvalues follow, as pseudo-instructions
			if i := opGetArgBx(inst); i < len(p.FunctionPrototypes) {
				skip = int(p.FunctionPrototypes[i].NumUpvalues)
			}
		case OP_SETGLOBAL, OP_SETUPVAL, OP_SETTABLE, OP_SETTABLEKS, OP_EQ, OP_LT, OP_LE,
			OP_RETURN, OP_SETLIST, OP_CLOSE, OP_NOP:
			// they set no register
		default: // the others set R(A)
			change = reg == a
		}
		if change {
			if pc < jmptarget {
				setreg = -1
			} else {
				setreg = pc
			}
		}
		pc += skip
	}
	return setreg
}
